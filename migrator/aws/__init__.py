"""The thin AWS layer: the only package that imports boto3. One module per service.

Everything it returns is plain data (dicts, lists, strings); every botocore error is turned into
one of migrator.errors' AwsError subclasses by `calls.translate_errors`.
"""
