"""One small made-up archive history, shared by the pywb and fault-server tests.

KB 977153 lived at four URL forms with three revisions and moved to a /topic/ page;
KB 9771530 sits just past its number's boundary; KB 977154's old URL now redirects to the
support home page; KBs 977155–977157 are soft 404s (one home page served for all three).
"""

from __future__ import annotations

from crawlkit.pages import classic_page, home_page, topic_page
from crawlkit.warcs import Capture

TOPIC = "https://support.microsoft.com/en-us/topic/pretend-widget-stops-responding-4f1c2d3e-aaaa-bbbb-cccc-0123456789ab"


def history() -> list[Capture]:
    v0 = classic_page(977153, "The pretend widget stops responding", "The widget hangs at dawn.",
                      revision="1.0", review="June 1, 2009")
    v1 = classic_page(977153, "The pretend widget stops responding", "The widget hangs at dusk.",
                      revision="2.1", review="May 5, 2010")
    v2 = classic_page(977153, "The pretend widget stops responding", "The widget hangs at noon.",
                      revision="3.0", review="July 7, 2012")
    home = home_page()
    return [
        Capture("http://support.microsoft.com/default.aspx?scid=kb;EN-US;977153",
                "20090612101010", v0),
        Capture("http://support.microsoft.com/kb/977153", "20100102030405", v1),
        Capture("http://support.microsoft.com/kb/977153", "20110102030405", v1),  # same payload
        Capture("http://support.microsoft.com/kb/977153/en-us", "20120808080808", v2),
        Capture("http://support.microsoft.com/kb/977153/de", "20120909090909",
                classic_page(977153, "Das Widget reagiert nicht", "Es hängt.")),
        Capture("https://support.microsoft.com/en-us/help/977153/pretend-widget", "20180301000000",
                b"", status=301, headers=[("Location", TOPIC)]),
        Capture(TOPIC, "20180301000500",
                topic_page(977153, "The pretend widget stops responding",
                           "The widget hangs at midnight.")),
        Capture("http://support.microsoft.com/kb/9771530", "20150101000000",
                classic_page(9771530, "An unrelated made-up article", "Nothing happens.")),
        Capture("http://support.microsoft.com/kb/977154", "20200101000000", b"", status=301,
                headers=[("Location", "https://support.microsoft.com/")]),
        Capture("https://support.microsoft.com/", "20200101000100", home),
        Capture("http://support.microsoft.com/kb/977155", "20210101000000", home),
        Capture("http://support.microsoft.com/kb/977156", "20210101000000", home),
        Capture("http://support.microsoft.com/kb/977157", "20210101000000", home),
    ]


#: (kb_id, revision) of every article version a full harvest of 977153–977157 stores
EXPECTED_977153 = {"1.0", "2.1", "3.0", "topic"}
