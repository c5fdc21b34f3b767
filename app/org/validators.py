"""Checks of personal identifiers, shared by the API and the importer."""

import re
from operator import mul

# GB 11643-1999: weights of the first 17 digits and the check character for sum mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)


def id_number_check_digit(first17: str) -> str:
    if len(first17) != len(_WEIGHTS):
        raise ValueError("the check digit is computed from the first 17 digits")
    # map() rather than a generator: an import checks a hundred thousand of these.
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def is_valid_id_number(value: str) -> bool:
    return bool(_ID_SHAPE.match(value)) and id_number_check_digit(value[:17]) == value[17]


def is_valid_mobile(value: str) -> bool:
    return bool(_MOBILE.match(value))
