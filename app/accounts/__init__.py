"""People, districts, schools, sessions, tokens, invitations and caseloads. May use core."""
