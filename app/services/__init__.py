"""The domain: plain functions that check policy, change rows, commit, audit and publish."""
