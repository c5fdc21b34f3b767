"""Password hashing (Argon2 through pwdlib) and the password policy."""

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase, short enough that hashing it is no denial of service.
MAX_PASSWORD_LENGTH = 128

_hasher = PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("no user has this password")


def waste_equal_time(password: str) -> None:
    """Verifies against a throwaway hash, so an unknown username costs what a wrong password
    costs and the answer's timing does not tell which usernames exist."""
    _hasher.verify(password, _dummy_hash())
