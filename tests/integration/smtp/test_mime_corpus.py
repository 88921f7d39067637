"""parse_message() (through the mime_dump tool) against Python's email package,
over CPython's email test corpus and this project's fixtures.

    python3 test_mime_corpus.py --mime-dump PATH [--corpus DIR] [--fixtures DIR]
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support", "python"))
import pydecode  # noqa: E402

# Every message is compared. Where GMime and Python legitimately read one
# differently (a malformed corpus message, or a deliberate project rule in a
# fixture), only that respect (a pydecode.FIELDS name) is left out, with why;
# the test fails when the difference is gone, so this list stays true.
CORPUS_DIFFERENCES = {
    "msg_15.txt": ({"attachments"},
                   "the inner multipart reuses the outer boundary (RFC 2046 forbids it); "
                   "GMime still finds the GIF attachment, Python sees an empty part instead"),
    "msg_35.txt": ({"bodies"},
                   "no blank line between headers and body; Python takes the non-header "
                   "line as the body, GMime drops it"),
    "msg_38.txt": ({"attachments"},
                   "boundary lines with trailing blanks inside a part: RFC 2046 counts them "
                   "as delimiters (GMime), Python does not, so the parts split differently"),
    "msg_39.txt": ({"attachments"},
                   "inner multiparts reuse their parent's boundary: the split is ambiguous "
                   "and the two parsers resolve it differently"),
}

# Fixtures that show a deliberate project rule where Python's answer differs.
FIXTURE_RULES = {
    "unlabelled_8bit_windows1252.eml": ({"bodies"},
                                        "unlabelled 8-bit text is read as windows-1252 "
                                        "(Python: ASCII with U+FFFD)"),
    "duplicate_attachment_names.eml": ({"attachment_names"},
                                       "repeated attachment names get -2, -3... "
                                       "(the API fetches attachments by name)"),
    "path_in_attachment_name.eml": ({"attachment_names"},
                                    "attachment names keep only the last path component"),
}

ARGS = None


def run_mime_dump(paths):
    result = subprocess.run([ARGS.mime_dump, *paths], capture_output=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"mime_dump failed ({result.returncode}): {result.stderr.decode()}")
    return {os.path.basename(d["file"]): d
            for d in map(json.loads, result.stdout.decode().splitlines())}


class MimeAgreesWithPython(unittest.TestCase):
    def check_directory(self, paths, differences):
        self.assertTrue(paths, "no input messages found: is libpython3.11-testsuite installed?")
        dumped = run_mime_dump(paths)
        for path in paths:
            name = os.path.basename(path)
            ignore, reason = differences.get(name, (frozenset(), ""))
            with self.subTest(message=name):
                with open(path, "rb") as f:
                    expected = pydecode.decode(f.read())
                problems = pydecode.compare(expected, dumped[name], ignore=frozenset(ignore))
                self.assertEqual(problems, [], f"{name} decodes differently:\n  "
                                 + "\n  ".join(problems))
                if ignore:
                    self.assertNotEqual(pydecode.compare(expected, dumped[name]), [],
                                        f"{name} no longer differs in {sorted(ignore)} "
                                        f"({reason}): remove it from the list")
        return len(paths)

    def test_cpython_corpus(self):
        paths = sorted(glob.glob(os.path.join(ARGS.corpus, "msg_*.txt")))
        compared = self.check_directory(paths, CORPUS_DIFFERENCES)
        self.assertGreaterEqual(compared, 47)  # every message of the corpus

    def test_project_fixtures(self):
        paths = sorted(glob.glob(os.path.join(ARGS.fixtures, "*.eml")))
        compared = self.check_directory(paths, FIXTURE_RULES)
        self.assertGreaterEqual(compared, 8)

    def test_difference_lists_name_existing_files(self):
        for name in CORPUS_DIFFERENCES:
            self.assertTrue(os.path.exists(os.path.join(ARGS.corpus, name)), name)
        for name in FIXTURE_RULES:
            self.assertTrue(os.path.exists(os.path.join(ARGS.fixtures, name)), name)


def main():
    global ARGS
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mime-dump", required=True, help="path of the mime_dump tool")
    parser.add_argument("--corpus", default="/usr/lib/python3.11/test/test_email/data")
    parser.add_argument("--fixtures", default=os.path.join(here, "..", "..", "data", "mime"))
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
