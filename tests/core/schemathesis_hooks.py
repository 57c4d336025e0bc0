"""Schemathesis extension hooks for tests/core/test_api_fuzz.py (loaded by SCHEMATHESIS_HOOKS)."""

import schemathesis

# WHIP and WHEP offers are SDP, which is text: send the generated strings as they are.
schemathesis.serializer.alias("application/sdp", "text/plain")
