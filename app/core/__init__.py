"""What every feature uses and that imports no feature: config, extensions, the database base,
policy, errors, storage, realtime publish(), the job queue, audit.
"""
