"""Mints a signed identity the way a Python plugin runner would, with PyJWT:
    python3 mint.py USER PLUGIN [ALGORITHM]   (the secret comes from OI_E2E_IDENTITY_SECRET)
"""
import datetime
import os
import sys

import jwt

user, plugin = sys.argv[1], sys.argv[2]
algorithm = sys.argv[3] if len(sys.argv) > 3 else "HS256"
now = datetime.datetime.now(tz=datetime.timezone.utc)
claims = {"sub": user, "plugin": plugin, "iat": now, "exp": now + datetime.timedelta(minutes=5)}
sys.stdout.write(jwt.encode(claims, os.environ["OI_E2E_IDENTITY_SECRET"], algorithm=algorithm))
