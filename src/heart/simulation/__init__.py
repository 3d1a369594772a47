"""Capacity planning: a discrete-event simulator of a city's calls, teams and policy, checked against Erlang C.

- ``scenario`` / ``model`` / ``inputs`` what is simulated; ``engine`` one replication; ``runner`` many, over
  processes; ``stats`` / ``report`` what they add up to; ``theory`` / ``queueing`` the Erlang check; ``fit`` a
  scenario from history; ``planner`` / ``pages`` / ``jobs`` the planner page; ``cli`` ``heart simulate``.
"""
