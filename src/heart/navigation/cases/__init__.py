"""Cases of the programs that begin from a referral or a petition (the Office of Survivor Care, the Involuntary
Commitment unit): opened here, then worked as follow-ups by the same machinery, with their program's rules."""
