"""safe_relpath: user-given artifact paths stay inside their prefix."""

from __future__ import annotations

import pytest

from kiln.core.errors import Invalid
from kiln.storage.paths import MAX_PATH_LENGTH, join_key, safe_relpath


class TestAcceptedPaths:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("model.skops", "model.skops"),
            ("plots/loss.png", "plots/loss.png"),
            ("a/b/c/d.txt", "a/b/c/d.txt"),
            ("a//b///c", "a/b/c"),
            ("dir/", "dir"),
            ("..hidden/file", "..hidden/file"),
            ("file..txt", "file..txt"),
            (".env", ".env"),
            ("name with spaces/ü.txt", "name with spaces/ü.txt"),
            ("ab:c", "ab:c"),
        ],
    )
    def test_normalised(self, path: str, expected: str) -> None:
        assert safe_relpath(path) == expected

    def test_longest_allowed(self) -> None:
        path = "a" * MAX_PATH_LENGTH

        assert safe_relpath(path) == path


class TestRefusedPaths:
    @pytest.mark.parametrize(
        "path",
        [
            "..",
            "../x",
            "a/../../x",
            "a/..",
            "./x",
            "a/./b",
            ".",
            "/etc/passwd",
            "//server/share",
            "\\\\server\\share",
            "..\\..\\x",
            "a\\b",
            "C:\\windows\\system32",
            "C:/windows",
            "c:x",
            "s3://bucket/key",
            "file:///etc/passwd",
            "a\x00b",
            "a\nb",
            "a\tb",
            "",
            "   ",
            "a" * (MAX_PATH_LENGTH + 1),
        ],
    )
    def test_raises_invalid_saying_why(self, path: str) -> None:
        with pytest.raises(Invalid) as refused:
            safe_relpath(path)

        assert "path" in refused.value.message
        assert refused.value.status_code == 400

    def test_messages_name_the_problem(self) -> None:
        with pytest.raises(Invalid, match=r"'\.\.'"):
            safe_relpath("a/../b")
        with pytest.raises(Invalid, match="absolute"):
            safe_relpath("/etc/passwd")
        with pytest.raises(Invalid, match="backslash"):
            safe_relpath("a\\b")
        with pytest.raises(Invalid, match="empty"):
            safe_relpath("")


class TestJoinKey:
    def test_joins_a_trusted_prefix_and_a_checked_path(self) -> None:
        assert join_key("runs/1/artifacts/", "plots//a.png") == "runs/1/artifacts/plots/a.png"

    def test_checks_the_user_part(self) -> None:
        with pytest.raises(Invalid):
            join_key("runs/1/artifacts", "../../2/artifacts/x")


class TestLookAlikeNames:
    def test_names_are_normalised_to_nfc(self) -> None:
        decomposed = "cafe\u0301/menu.txt"

        assert safe_relpath(decomposed) == "caf\u00e9/menu.txt"

    @pytest.mark.parametrize("hidden", ["\u202e", "\u200b", "\u2066", "\ufeff"])
    def test_invisible_format_characters_are_refused(self, hidden: str) -> None:
        with pytest.raises(Invalid, match=f"U\\+{ord(hidden):04X}"):
            safe_relpath(f"report{hidden}txt.exe")
