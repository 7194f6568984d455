"""The report for the decision file: the PDF renders page by page, and the HTML carries the same content."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2

from models.policy.report import PDF_PAGES
from tests.review.conftest import proposal


def test_the_pdf_renders_with_every_page_drawn(review_app) -> None:
    rid = review_app.client.post("/v1/policy-reviews", json=proposal(review_app.mine[:4]),
                                 headers=review_app.reviewer).json()["review_id"]
    response = review_app.client.get(f"/v1/policy-reviews/{rid}/report.pdf", headers=review_app.reviewer)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(response.content))
    assert len(document) == PDF_PAGES == 6
    for index in range(len(document)):
        image = np.asarray(document[index].render(scale=0.6).to_pil().convert("L"), dtype=float)
        inked = (image < 200).mean()
        assert image.std() > 5 and inked > 0.003, f"page {index + 1} looks blank ({inked:.4f} inked)"
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Risk level before mitigations" in text and "HUMAN INPUT" in text and "Limits of the evidence" in text


def test_the_html_report_marks_human_input_and_embeds_the_plots(review_app) -> None:
    rid = review_app.client.post("/v1/policy-reviews", json=proposal(review_app.mine[:2]),
                                 headers=review_app.reviewer).json()["review_id"]
    page = review_app.client.get(f"/v1/policy-reviews/{rid}/report.html", headers=review_app.reviewer)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.count("data:image/png;base64,") == 3
    assert "Human input — the reviewer's judgement" in html and "provincial land bureau" in html
    assert "东区旧城改造房屋征收" in html and "The rule:" in html and "Limits of the evidence" in html
    assert "<script" not in html.lower()
