"""Care navigation: follow-ups and referrals to community resources.

- ``resources/`` the community resource directory in Open Referral HSDS 3.0 terms (import, search, export, pages).
"""
