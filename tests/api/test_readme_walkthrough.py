"""The README's "First steps in GraphiQL" works as written, document by document."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDERS = {"SmsGateway": "GATEWAY_ID", "IdentityStore": "STORE_ID", "SecurityRole": "ROLE_ID"}


def walkthrough_documents() -> list[str]:
    text = README.read_text()
    section = text.split("## First steps in GraphiQL", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.S)


async def test_readme_walkthrough_runs_in_order(admin):
    documents = walkthrough_documents()
    assert len(documents) >= 9
    ids: dict[str, str] = {}
    results = []
    for document in documents:
        for placeholder, value in ids.items():
            document = document.replace(placeholder, value)
        assert not re.search(r"\b(GATEWAY|STORE|ROLE)_ID\b", document), document
        data = await admin.data(document)
        for result in data.values():
            assert "code" not in result, (document, result)
            typename = document.split("... on ", 1)[1].split()[0] if "... on" in document else ""
            if typename in PLACEHOLDERS and PLACEHOLDERS[typename] not in ids:
                ids[PLACEHOLDERS[typename]] = result["id"]
        results.append(data)
    requirements = next(r for r in results if "authenticationRequirements" in r)
    assert requirements["authenticationRequirements"] == {
        "sms": "REQUIRED",
        "enrolled": False,
        "enrollmentRequired": True,
    }
    messages = results[-1]["smsMessages"]["edges"]
    assert messages == [{"node": {"to": "+44******2712", "status": "DELIVERED", "text": "hello"}}]
