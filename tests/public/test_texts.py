"""The city's texts: Durham's file is valid, a mistake names the file, line and field, and Markdown never runs HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from heart.config import Settings
from heart.public.texts import load_texts, markdown
from heart.yamlfile import YamlFileError


def test_durhams_texts_load_and_name_programs_of_its_configuration() -> None:
    texts = load_texts(Settings(env="test").public_dir)
    assert [program.code for program in texts.programs] == ["CRT", "COR", "CCD", "CN"]
    assert "560-4600" in texts.faq.must_i_call_911
    assert texts.engagement.interests


def test_a_missing_answer_names_the_file_line_and_field(tmp_path: Path) -> None:
    source = (Settings(env="test").public_dir / "site.yaml").read_text(encoding="utf-8")
    broken = source.replace("  must_i_call_911: |", "  must_i_call: |")
    (tmp_path / "site.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(YamlFileError) as refused:
        load_texts(tmp_path)
    message = str(refused.value)
    assert str(tmp_path / "site.yaml") in message and "line" in message
    assert "faq.must_i_call_911" in message or "faq.must_i_call" in message


def test_markdown_escapes_html_and_refuses_script_links() -> None:
    html = markdown('Hi <script>alert(1)</script> [x](javascript:alert(1)) **bold** ![i](http://x/y.png)')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert "<strong>bold</strong>" in html
    assert "<img" not in html
