"""The sign-out Lambda function's code: ``handler.py``, packaged alone by ``constructs/sign_out.py``."""
