"""A referral as HL7 FHIR R4 documents (fhir.resources' R4B models): exported as a Bundle a partner agency's system
reads, and the partner's Task status update imported back to close the loop."""
