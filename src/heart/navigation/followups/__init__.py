"""Care Navigation follow-ups: the case opened after a response or a CCD contact with the neighbor's consent."""
