"""`python -m bot.staff hash`: reads a password (a prompt, or one line of stdin) and prints the
scrypt hash to set as STAFF_PASSWORD_HASH."""

from __future__ import annotations

import sys

from bot.staff.auth import hash_password
from bot.staff.pages import t

MIN_PASSWORD_CHARS = 12


def main(argv: list[str]) -> int:
    if argv[:1] != ["hash"]:
        print(t("cli.usage"), file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(t("cli.new"))
        if getpass.getpass(t("cli.again")) != password:
            print(t("cli.differ"), file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_CHARS:
        print(t("cli.short"), file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
