"""Accounts, roles and who may do what: users, sessions, sign-in and its throttling, need-to-know, login pages.

- ``models`` users, sessions, sign-in throttles; ``schemas``; ``service`` accounts and sessions;
- ``flows`` signing in (throttle check, password outside any transaction, one short write); ``throttle``;
- ``permissions`` which role may use which route (every route declares one); ``need_to_know`` what a responder
  may read; ``origin`` sign-in only from HEART's own pages;
- ``api`` ``/api/auth``, ``/api/users``; ``pages`` the login page, sign-out and the home page of each role.
"""
