"""``auditor dmarc fetch`` against a minimal IMAP4rev1 server on loopback (the commands imaplib sends)."""

from __future__ import annotations

import json
import re
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.auditor.dmarc.conftest import GOOGLE
from tests.auditor.dmarc.samples import as_email, google, gz
from tests.checks.test_dmarc_reports import BOMB
from tests.conftest import Runner


class Folder:
    """Messages by UID with their \\Seen flag."""

    def __init__(self, messages: list[bytes]) -> None:
        self.messages = dict(enumerate(messages, 1))
        self.seen: set[int] = set()
        self.logins: list[tuple[str, str]] = []


def _server(folder: Folder) -> socketserver.ThreadingTCPServer:
    class Handler(socketserver.StreamRequestHandler):
        def say(self, line: str | bytes) -> None:
            self.wfile.write((line if isinstance(line, bytes) else line.encode()) + b"\r\n")

        def handle(self) -> None:
            self.say("* OK IMAP4rev1 test server ready")
            while line := self.rfile.readline().decode().rstrip("\r\n"):
                tag, cmd, *rest = line.split(" ", 2)
                arg = rest[0] if rest else ""
                cmd = cmd.upper()
                if cmd == "CAPABILITY":
                    self.say("* CAPABILITY IMAP4rev1")
                elif cmd == "LOGIN":
                    folder.logins.append(tuple(x.strip('"') for x in arg.split(" ", 1)))
                elif cmd == "SELECT":
                    self.say(f"* {len(folder.messages)} EXISTS")
                elif cmd == "LOGOUT":
                    self.say("* BYE")
                    self.say(f"{tag} OK LOGOUT completed")
                    return
                elif cmd == "UID":
                    sub, _, rest2 = arg.partition(" ")
                    if sub.upper() == "SEARCH":
                        unseen = [str(u) for u in folder.messages if u not in folder.seen]
                        self.say("* SEARCH " + " ".join(unseen))
                    elif sub.upper() == "FETCH":
                        uid = int(rest2.split(" ")[0])
                        body = folder.messages[uid]
                        self.say(f"* {uid} FETCH (UID {uid} RFC822 {{{len(body)}}}".encode())
                        self.wfile.write(body + b")\r\n")
                    elif sub.upper() == "STORE":
                        uid = int(rest2.split(" ")[0])
                        folder.seen.add(uid)
                        self.say(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))")
                self.say(f"{tag} OK {cmd} completed")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def imap() -> Iterator[Folder]:
    folder = Folder([as_email(gz(google(GOOGLE)), "google.xml.gz"), as_email(BOMB, "bomb.xml", "text/xml")])
    server = _server(folder)
    folder.port = server.server_address[1]  # type: ignore[attr-defined]
    yield folder
    server.shutdown()
    server.server_close()


def test_fetch_reads_unseen_reports_once_and_refuses_the_hostile_one(make_app, imap):
    app = make_app(dmarc_mailbox=f"imap://dmarc%40shop.example:s3cret@127.0.0.1:{imap.port}/INBOX")
    r = Runner(app).invoke(["dmarc", "fetch", "--json"])
    out = json.loads(r.output)
    assert r.exit_code == 1
    assert (out["imported"], out["duplicates"]) == (1, 0)
    assert [x["file"] for x in out["refused"]] == ["INBOX/2"] and "DTD" in out["refused"][0]["reason"]
    assert imap.logins == [("dmarc@shop.example", "s3cret")] and imap.seen == {1, 2}
    again = Runner(app).invoke(["dmarc", "fetch", "--json"])
    assert again.exit_code == 0 and json.loads(again.output) == {"imported": 0, "duplicates": 0, "refused": []}
    assert not re.search("s3cret", r.output + again.output)
