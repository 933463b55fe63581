"""Privacy: differentially private fitting, and checks before sharing synthetic data."""

from synthvae.privacy.spec import PrivacySpec

__all__ = ["PrivacySpec"]
