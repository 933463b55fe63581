"""Edges of reading and writing CSV: null words as categories, the separator and decimal mark
of spreadsheet exports, one-column files, MultiIndex columns, and what the errors name."""

from __future__ import annotations

import logging
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from synthvae.errors import DataError
from synthvae.inference import infer_schema
from synthvae.schema import ColumnKind
from synthvae.io import read_csv_chunks, read_table, text_columns, write_table
from synthvae.validation import conform


def _both_ways(path, rows: int = 2) -> pd.DataFrame:
    """``path`` read whole, checked to read the same in chunks of ``rows``."""
    whole = read_table(path)
    chunked = pd.concat(list(read_csv_chunks(path, rows)), ignore_index=True)
    assert chunked.astype(object).where(chunked.notna(), None).values.tolist() == \
        whole.astype(object).where(whole.notna(), None).values.tolist()
    return whole


@pytest.mark.parametrize("word", ["NA", "N/A", "null", "NaN", "None"])
def test_a_category_that_is_a_null_word_reads_back_with_the_schema(tmp_path, word):
    frame = pd.DataFrame({"grade": pd.Categorical(["1", "2", word, "3", word, None]), "v": [1.5, 2.0, 3.0, 4.0, 5.0, 6.0]})
    schema = infer_schema(frame.dropna())
    write_table(frame, tmp_path / "s.csv")
    back = read_table(tmp_path / "s.csv", text_columns(schema))
    assert back["grade"].tolist()[:5] == ["1", "2", word, "3", word] and pd.isna(back["grade"].iloc[5])
    chunks = pd.concat(list(read_csv_chunks(tmp_path / "s.csv", 4, text_columns(schema))), ignore_index=True)
    assert chunks["grade"].tolist()[:5] == ["1", "2", word, "3", word]
    # Without the schema, a null word among numbers is a null (an R export's NA).
    assert read_table(tmp_path / "s.csv")["grade"].isna().sum() == 3


def test_writing_an_empty_text_category_to_csv_warns(tmp_path, caplog):
    frame = pd.DataFrame({"suffix": pd.Categorical(["", "Jr", "Sr"]), "v": [1, 2, 3]})
    with caplog.at_level(logging.WARNING, logger="synthvae.io"):
        write_table(frame, tmp_path / "s.csv")
    assert re.search(r"s\.csv'.*\['suffix'\].*write Parquet", caplog.text)
    caplog.clear()
    write_table(frame, tmp_path / "s.parquet")  # Parquet keeps it, silently
    assert not caplog.text
    assert read_table(tmp_path / "s.parquet")["suffix"].tolist() == ["", "Jr", "Sr"]


@pytest.mark.parametrize("text, expected", [
    # A comma inside a header name of a ';' file: it was read as two garbage columns.
    ("Betrag, EUR;Datum;Kunde\n1.234,50;24.12.2021;Müller\n99,90;01.01.2022;Schmidt\n",
     {"Betrag, EUR": [1234.5, 99.9], "Datum": ["24.12.2021", "01.01.2022"], "Kunde": ["Müller", "Schmidt"]}),
    # A ';' in every value of a comma file's column is not the separator (the header has none).
    ("id,tags\n1,a;b\n2,c;d\n", {"id": [1, 2], "tags": ["a;b", "c;d"]}),
    ('"a;b",c\n1,2\n', {"a;b": [1], "c": [2]}),
])
def test_the_separator_splits_header_and_rows_alike(tmp_path, text, expected):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert _both_ways(path).to_dict("list") == expected


def test_a_csv_consistently_separated_by_tabs_is_refused_though_a_comma_splits_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Betrag, EUR\tDatum\n1\t2\n3\t4\n")
    with pytest.raises(DataError, match=r"t\.csv' looks separated by tabs .*name it \.tsv"):
        read_table(path)


@pytest.mark.parametrize("name, text", [
    ("dec.tsv", "w\th\tname\n40,6\t1,550\tb\n39,3\t1,599\ta\n43,2\t1,484\tb\n"),
    ("decq.csv", 'w,h,name\n"40,6","1,550",b\n"39,3","1,599",a\n"43,2","1,484",b\n'),
])
def test_decimal_commas_of_a_tsv_or_quoted_csv(tmp_path, name, text, caplog):
    path = tmp_path / name
    path.write_text(text)
    with caplog.at_level(logging.WARNING, logger="synthvae.io"):
        assert _both_ways(path).to_dict("list") == {"w": [40.6, 39.3, 43.2], "h": [1.55, 1.599, 1.484], "name": ["b", "a", "b"]}
    # h's commas could group thousands: read as w's decimal commas, which was silent.
    assert "column 'h' holds numbers such as '1,550' whose comma could group thousands" in caplog.text
    assert "(1,550 as 1.550)" in caplog.text and "'w'" not in caplog.text


def test_a_column_of_english_numbers_beside_decimal_commas_keeps_the_file_english(tmp_path, caplog):
    # "1,234" beside "5.678" is English (thousands commas, a decimal point): the warning's check
    # of commas that could group thousands ran before it, and 5.678 was read as 5678.
    path = tmp_path / "mixed.tsv"
    path.write_text("a\tb\n40,6\t1,234\n41,2\t5.678\n39,9\t2,500\n")
    with caplog.at_level(logging.WARNING, logger="synthvae.io"):
        assert read_table(path)["b"].tolist() == ["1,234", "5.678", "2,500"]
    assert "could group thousands" not in caplog.text


@pytest.mark.parametrize("name, text, warned", [
    ("semi.csv", "amount;age\n1,169;67\n5,951;22\n999;49\n12,500;45\n", True),  # a ';' file: said
    ("semi_decimals.csv", "w;amount;age\n40,6;1,169;67\n39,3;5,951;22\n43,2;999;49\n41,0;12,500;45\n", True),
    ("tabs.tsv", "w\tamount\tage\n40,6\t1,169\t67\n39,3\t5,951\t22\n43,2\t999\t49\n41,0\t12,500\t45\n", True),
])
def test_commas_grouping_thousands_beside_small_whole_numbers_are_thousands(tmp_path, name, text, warned, caplog):
    # A ';' file read "1,169" as 1.169 beside 999, silently (a user review): a column of two
    # scales. Whole numbers below 1,000 beside groups of three digits are thousands in any file.
    path = tmp_path / name
    path.write_text(text)
    with caplog.at_level(logging.WARNING, logger="synthvae.io"):
        table = read_table(path)
    amounts = conform(table, infer_schema(table))["amount"]
    assert amounts.tolist() == [1169, 5951, 999, 12500]
    if "w" in table:
        assert table["w"].tolist() == [40.6, 39.3, 43.2, 41.0]
    assert ("column 'amount' writes numbers such as '1,169' beside whole numbers below 1,000" in caplog.text) == warned
    assert "could group thousands" not in caplog.text


def test_commas_before_three_digits_beside_whole_numbers_of_their_scale_are_decimals(tmp_path, caplog):
    # Litres: 3 and 4 beside 1,500 and 12,125 are decimals with three places (the thousands rule
    # read them 1500 and 12125, silently; a review).
    path = tmp_path / "litres.csv"
    path.write_text("litres;x\n1,500;a\n2,250;b\n3;c\n12,125;d\n4;e\n1,750;f\n")
    with caplog.at_level(logging.WARNING, logger="synthvae.io"):
        assert read_table(path)["litres"].tolist() == [1.5, 2.25, 3.0, 12.125, 4.0, 1.75]
    assert "group thousands" not in caplog.text


@pytest.mark.parametrize("name, text", [
    ("us.csv", 'a,b\n"1,234",x\n"2,345",y\n'),  # thousands, as likely as decimals: left as text
    ("us.tsv", "a\tb\n1,234\tx\n2,345\ty\n"),
    ("mixed.csv", 'a,b\n"1,234.5",x\n"12,5",y\n'),  # an English decimal point: no decimal commas
])
def test_thousands_commas_are_not_decimal_commas(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert _both_ways(path)["b"].tolist() == ["x", "y"]
    assert all(isinstance(v, str) for v in read_table(path)["a"])


def test_empty_lines_of_a_one_column_file_are_nulls(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("score\n5\n\n7\n\n9\n\n4\n6\n")
    back = _both_ways(path, rows=3)
    assert len(back) == 8 and back["score"].dropna().tolist() == [5, 7, 9, 4, 6]
    assert back["score"].isna().tolist() == [False, True, False, True, False, True, False, False]
    # The blank lines that end a file are not rows.
    path.write_text("score\n5\n\n7\n\n\n")
    assert len(_both_ways(path)) == 3


@pytest.mark.parametrize("values", [[" ", "x"], ["x", None, "", "  ", "\t"], [None], [" "]])
def test_one_column_of_blanks_and_nulls_round_trips(tmp_path, values):
    write_table(pd.DataFrame({"c": values}), tmp_path / "t.csv")
    back = _both_ways(tmp_path / "t.csv")
    assert len(back) == len(values)
    assert [v if isinstance(v, str) and v.strip() else None for v in back["c"].astype(object).where(back["c"].notna(), None)] == \
        [v if isinstance(v, str) and v.strip() else None for v in values]
    assert [v for v in back["c"] if isinstance(v, str)] == [v for v in values if v]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_multiindex_columns_are_refused_before_anything_is_written(tmp_path, suffix):
    frame = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")]))
    with pytest.raises(DataError, match=rf"cannot write .*m{suffix}'.*MultiIndex.*flatten"):
        write_table(frame, tmp_path / f"m{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_a_parquet_column_without_a_name_is_named_with_its_file(tmp_path):
    pd.DataFrame({"": [1], "b": [2]}).to_parquet(tmp_path / "e.parquet")
    with pytest.raises(DataError, match=r"e\.parquet': column #1 has an empty name"):
        read_table(tmp_path / "e.parquet")


def test_a_zip_of_one_csv_beside_folders_and_macos_entries_is_read(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.csv.zip", "w") as archive:
        archive.writestr("d/", "")
        archive.writestr("d/x.csv", "a,b\n1,2\n3,4\n")
        archive.writestr("__MACOSX/d/._x.csv", "\x00\x05junk")
    assert _both_ways(tmp_path / "z.csv.zip").to_dict("list") == {"a": [1, 3], "b": [2, 4]}


def test_a_zip_of_several_csv_files_names_them(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.csv.zip", "w") as archive:
        archive.writestr("x.csv", "a\n1\n")
        archive.writestr("y.csv", "a\n2\n")
    with pytest.raises(DataError, match=r"z\.csv\.zip' is a zip archive of 2 files .*'x\.csv', 'y\.csv'.*keep one"):
        read_table(tmp_path / "z.csv.zip")


def test_excels_separator_line_is_named(tmp_path):
    (tmp_path / "x.csv").write_text("sep=;\na;b\n1;2\n")
    with pytest.raises(DataError, match=r"x\.csv' begins with the line 'sep=;', Excel's note of the separator"):
        read_table(tmp_path / "x.csv")


def test_a_long_csv_whose_column_turns_to_text_reads_without_pandas_warning(tmp_path):
    # pandas parses a long file in pieces: a word after 262,144 numbers gave its DtypeWarning.
    import warnings

    n = 300_000
    values = np.arange(n).astype(object) % 50
    values[-1] = "unknown"
    pd.DataFrame({"a": values, "b": np.arange(n) / 7}).to_csv(tmp_path / "t.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = read_table(tmp_path / "t.csv")
    assert len(table) == n and table["a"].iloc[-1] == "unknown"


def test_a_word_deep_in_a_long_numeric_column_reads_as_text_in_every_chunk(tmp_path):
    # pandas parses a long chunk in pieces: the piece holding the word gave strings ("26.0"),
    # the others floats, in one column, which no Parquet part can store (a streamed fit of 50,000
    # flights rows with one "abc" in dep_delay died in pyarrow).
    import pyarrow as pa

    from conftest import dataset_path

    flights = pd.read_csv(dataset_path("flights.csv.gz"), nrows=50_000)
    flights["dep_delay"] = flights["dep_delay"].astype(object)
    flights.loc[45_000, "dep_delay"] = "abc"
    flights.to_csv(tmp_path / "flights.csv", index=False)
    chunks = list(read_csv_chunks(tmp_path / "flights.csv", 262_144))
    for chunk in chunks:
        pa.Table.from_pandas(chunk, preserve_index=False)
        assert chunk["dep_delay"].dropna().map(type).eq(str).all()
    whole = pd.concat(chunks, ignore_index=True)
    assert whole.loc[45_000, "dep_delay"] == "abc" and whole["distance"].dtype.kind in "if"
    # Columns without a word stay numbers; a streamed fit's reading equals the whole file's.
    assert pd.to_numeric(whole["dep_delay"], errors="coerce").equals(pd.to_numeric(read_table(tmp_path / "flights.csv")["dep_delay"], errors="coerce"))


def test_writing_a_column_of_null_words_beside_numbers_alone_warns_that_it_reads_back_as_nulls(tmp_path, caplog):
    # A sample of region "NA" (North America) written to CSV read back all null, without a word
    # (a user review); beside other words it reads back as written.
    path = tmp_path / "regions.csv"
    with caplog.at_level(logging.WARNING, logger="synthvae.io"):
        write_table(pd.DataFrame({"region": pd.Categorical(["NA"] * 4, categories=["NA", "EU"]), "code": ["1", "2", "NA", "3"],
                                  "name": ["NA", "EU", "NA", "US"]}), path)
    assert "the columns region (['NA']), code (['NA']) hold null words beside numbers alone" in caplog.text
    assert "name (" not in caplog.text
    back = read_table(path)
    assert back["region"].isna().all() and back["name"].tolist() == ["NA", "EU", "NA", "US"]


def test_one_wrong_cell_keeps_a_files_decimal_commas_and_is_named(tmp_path, caplog):
    # "abc" in a column of decimal commas turned them off for the whole file: the rates beside it
    # became text "8,2", silently (a user review of messy files). The column itself stays text,
    # as written (codes such as "1,10" beside "n.v." must not change), and is named.
    rows = [f"{1000 + 17 * i},{i % 100:02d};{i % 9},5" for i in range(40)]
    rows[7] = "abc;7,5"
    (tmp_path / "de.csv").write_text("betrag;zins\n" + "\n".join(rows) + "\n")
    with caplog.at_level(logging.WARNING):
        frame = read_table(tmp_path / "de.csv")
    assert frame.loc[0, "betrag"] == "1000,00" and frame.loc[7, "betrag"] == "abc" and frame.loc[0, "zins"] == 0.5
    assert "column 'betrag' holds numbers with decimal commas but also ['abc'], so it is read as text" in caplog.text


def test_amounts_with_a_currency_or_percent_sign_and_decimal_commas_are_numbers(tmp_path):
    # "1.234,56 €" (German Excel's currency cells) were categories, silently; "1 000,10 €" (French).
    (tmp_path / "eur.csv").write_text("betrag;anteil;n\n1.234,56 €;12,5 %;1\n12,50 €;3 %;2\n3.400,00 €;7,25 %;3\n"
                                      "99,99 €;1 %;4\n1\u00a0000,10 €;0,5 %;5\n")
    frame = read_table(tmp_path / "eur.csv")
    schema = infer_schema(frame)
    assert schema["betrag"].kind is ColumnKind.NUMERIC and schema["anteil"].kind is ColumnKind.NUMERIC
    read = conform(frame, schema, "eur.csv")
    assert read["betrag"].tolist() == [1234.56, 12.5, 3400.0, 99.99, 1000.1]
    assert read["anteil"].tolist() == [12.5, 3.0, 7.25, 1.0, 0.5]
    # An English amount's comma before three digits groups thousands (it was read as 23.712).
    (tmp_path / "usd.csv").write_text("id;amount;qty\n0;$23,712;1\n1;$25,639;2\n2;$37,782;3\n")
    usd = read_table(tmp_path / "usd.csv")
    assert conform(usd, infer_schema(usd), "usd.csv")["amount"].tolist() == [23712.0, 25639.0, 37782.0]
    # A schema's text column is read as written: "12,5 %" stays a category.
    codes = read_table(tmp_path / "eur.csv", text_columns=["anteil"])
    assert codes["anteil"].tolist()[:2] == ["12,5 %", "3 %"]


def test_thousands_dots_beside_decimal_commas_in_a_semicolon_file(tmp_path):
    # Excel's German export: "4.502" (thousands) beside "350", and rates "8,2". The dots were read
    # as decimal points (4.502), which switched the file's decimal commas off: rates became text
    # (a user review of messy inputs).
    (tmp_path / "de.csv").write_bytes("\ufeffBetrag;Zins;Anzahl\r\n4.502;8,2;2\r\n350;2,5;1\r\n14.828;3,1;4\r\n999;7,0;3\r\n".encode())
    frame = read_table(tmp_path / "de.csv")
    assert frame["Betrag"].tolist() == [4502, 350, 14828, 999] and frame["Zins"].tolist() == [8.2, 2.5, 3.1, 7.0]
    # Without decimal commas: the same scale rule as for commas ("12.500" beside "350").
    (tmp_path / "ints.csv").write_text("amount;qty\n1.169;3\n12.500;4\n350;5\n")
    assert read_table(tmp_path / "ints.csv")["amount"].tolist() == [1169, 12500, 350]
    # Decimals with three places beside small decimals stay decimals; a dot alone is no evidence.
    (tmp_path / "kg.csv").write_text("kg;n\n1.169;3\n1.5;4\n2.25;5\n")
    assert read_table(tmp_path / "kg.csv")["kg"].tolist() == [1.169, 1.5, 2.25]
