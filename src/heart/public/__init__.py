"""The public site: what each program does and how it is doing, the FAQ, open data, and residents' requests."""
