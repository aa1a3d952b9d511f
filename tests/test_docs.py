"""The docs stay true: the gateway pages match the declarations, every GraphQL document in docs/
and the README validates against the schema, links resolve, and the examples work as written."""

import re
from pathlib import Path

import graphql
import jwt
import pytest
from graphql.language import TypeSystemDefinitionNode

from api.schema import schema
from providers.registry import BUILTINS
from tests.api.otp_support import PHONE, build_setup
from tests.conftest import GraphQLClient
from tools.gateway_docs import PAGES, stale_files

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.S | re.M)
#: What a reader copies from an answer into the next document, by the answer's type.
PLACEHOLDERS = {
    "SmsGateway": "GATEWAY_ID",
    "IdentityStore": "STORE_ID",
    "SecurityRole": "ROLE_ID",
    "Challenge": "CHALLENGE_ID",
}


def graphql_blocks(path: Path) -> list[str]:
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == "graphql"]


def every_block() -> list:
    """Each ```graphql block of the README and docs/, named by its file and number."""
    files = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    return [
        pytest.param(block, id=f"{path.relative_to(ROOT)}#{number}")
        for path in files
        for number, block in enumerate(graphql_blocks(path), 1)
    ]


def test_gateway_pages_are_generated_from_the_declarations():
    stale = [str(path.relative_to(ROOT)) for path in stale_files()]
    assert stale == [], "stale gateway pages: run .venv/bin/python tools/gateway_docs.py"
    assert {page.stem for page in PAGES.glob("*.md")} == set(BUILTINS) | {"index"}


def test_gateway_index_explains_every_account_field():
    notes = (PAGES / "index.md").read_text()
    for input_type in ("SmsGatewayInput", "ProxyInput"):
        for name in schema._schema.type_map[input_type].fields:
            assert f"`{name}`" in notes, f"{input_type}.{name} is not explained"


@pytest.mark.parametrize("block", every_block())
def test_graphql_block_is_valid_against_the_schema(block):
    document = graphql.parse(block)
    if all(isinstance(node, TypeSystemDefinitionNode) for node in document.definitions):
        assert_sdl_matches_schema(document)
    else:
        assert [error.message for error in graphql.validate(schema._schema, document)] == []


def assert_sdl_matches_schema(document: graphql.DocumentNode) -> None:
    """A schema excerpt (``interface UserError { ... }``) says what the schema says."""
    for definition in document.definitions:
        actual = schema._schema.type_map.get(definition.name.value)
        assert actual is not None, definition.name.value
        for field in getattr(definition, "fields", None) or ():
            assert field.name.value in actual.fields, (actual.name, field.name.value)
            real_type = str(actual.fields[field.name.value].type)
            assert graphql.print_ast(field.type) == real_type, (actual.name, field.name.value)


def headings(path: Path) -> set[str]:
    """GitHub's anchors for a Markdown file's headings."""
    text = FENCE.sub("", path.read_text())
    titles = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}


@pytest.mark.parametrize(
    "page", [*sorted(DOCS.rglob("*.md")), ROOT / "docker" / "README.md"], ids=lambda p: p.name
)
def test_relative_links_resolve(page):
    text = FENCE.sub("", page.read_text())
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in headings(resolved), f"{page.name}: {target}"


GATEWAY_EXAMPLES = [
    pytest.param(page.stem, block, id=f"{page.stem}#{number}")
    for page in sorted(PAGES.glob("*.md"))
    for number, block in enumerate(graphql_blocks(page), 1)
    if "createSmsGateway(" in block
]


def test_every_gateway_page_has_an_example():
    examples = [example.values for example in GATEWAY_EXAMPLES]
    assert {page for page, _ in examples} == set(BUILTINS)
    for page, block in examples:
        assert f'type: "{page}"' in block, page


@pytest.mark.parametrize(("page", "block"), GATEWAY_EXAMPLES)
async def test_gateway_example_is_accepted(admin, page, block):
    created = (await admin.data(block))["createSmsGateway"]
    assert "code" not in created, created
    gateway = await admin.data(f'{{ smsGateway(id: "{created["id"]}") {{ type }} }}')
    assert gateway["smsGateway"] == {"type": page}


def readme_first_steps() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## First steps in GraphiQL", 1)[1].split("\n## ", 1)[0]
    return [body for lang, body in FENCE.findall(section) if lang == "graphql"]


def test_getting_started_repeats_the_readme_first_steps():
    readme = readme_first_steps()
    assert graphql_blocks(DOCS / "getting-started.md")[: len(readme)] == readme


async def test_getting_started_reaches_a_verified_code(admin, app):
    copied: dict[str, str] = {}
    answers = []
    for block in graphql_blocks(DOCS / "getting-started.md"):
        for placeholder, value in copied.items():
            block = re.sub(rf"\b{placeholder}\b", value, block)
        assert not re.search(r"\b(GATEWAY|STORE|ROLE|CHALLENGE)_ID\b|\bCODE\b", block), block
        data = await admin.data(block)
        await app.state.dispatcher.drain()  # the server's dispatcher would send it now
        for field, answer in data.items():
            assert "code" not in answer, (block, answer)
            typename = block.split("... on ", 1)[1].split()[0] if "... on" in block else ""
            if typename in PLACEHOLDERS and "id" in answer:
                copied.setdefault(PLACEHOLDERS[typename], answer["id"])
                if typename == "Challenge":
                    copied["CHALLENGE_ID"] = answer["id"]  # the newest challenge
            if field == "smsMessages":
                code = re.search(r"\b\d{6}\b", answer["edges"][0]["node"]["text"])
                if code:
                    copied["CODE"] = code.group()
        answers.append(data)
    enrolled = [a for a in answers if "authenticationRequirements" in a][-1]
    assert enrolled["authenticationRequirements"]["enrolled"] is True
    assertion = answers[-1]["verifySmsAuthentication"]["assertion"]
    assert jwt.decode(assertion, options={"verify_signature": False})["sub"] == "alice"


def spa_operations() -> dict[str, str]:
    """The SPA page's documents by operation name."""
    operations = {}
    for block in graphql_blocks(DOCS / "spa-flow.md"):
        (operation,) = graphql.parse(block).definitions
        operations[operation.name.value] = block
    return operations


async def run(client: GraphQLClient, operation: str, **variables) -> dict:
    (answer,) = (await client.data(spa_operations()[operation], **variables)).values()
    return answer


async def test_spa_flow_runs_as_written(admin, http, tenant, httpserver):
    setup = await build_setup(admin, http, tenant, httpserver)
    server, store = setup.service, setup.store
    requirements = await run(server, "Requirements", store=store, user="alice")
    assert requirements == {"sms": "OPTIONAL", "enrolled": False, "enrollmentRequired": False}
    session = await run(server, "CreateUserSession", store=store, user="alice")
    spa = GraphQLClient(http, session["token"])

    challenge = await run(spa, "StartEnrollment", store=store, user="alice", phone=PHONE)
    assert challenge["__typename"] == "Challenge", challenge
    code = setup.gateway.last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = await run(spa, "VerifyEnrollment", challenge=challenge["id"], code=wrong)
    assert refused["__typename"] == "InvalidCodeError" and refused["attemptsLeft"] == 2
    early = await run(spa, "ResendCode", challenge=challenge["id"])
    assert early["__typename"] == "ResendTooSoonError" and early["availableAt"]
    enrolled = await run(spa, "VerifyEnrollment", challenge=challenge["id"], code=code)
    assert enrolled["__typename"] == "Enrollment"

    other = await run(spa, "StartAuthentication", store=store, user="bob")
    assert other["code"] == "FORBIDDEN"
    challenge = await run(spa, "StartAuthentication", store=store, user="alice")
    code = setup.gateway.last_code(PHONE)
    signed = await run(spa, "VerifyAuthentication", challenge=challenge["id"], code=code)
    claims = jwt.decode(signed["assertion"], options={"verify_signature": False})
    assert (claims["sub"], claims["aud"], claims["amr"]) == ("alice", store, ["sms"])

    assert (await run(spa, "SignOut"))["id"]
    body = await spa.execute(spa_operations()["StartAuthentication"], store=store, user="alice")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_spa_flow_handles_every_error():
    page = (DOCS / "spa-flow.md").read_text()
    table = page.split("## Every error", 1)[1]
    for name, block in spa_operations().items():
        operation = graphql.parse(block).definitions[0]
        if operation.operation != graphql.OperationType.MUTATION or name == "CreateUserSession":
            continue
        field = operation.selection_set.selections[0].name.value
        union = graphql.get_named_type(schema._schema.mutation_type.fields[field].type)
        for member in union.types:
            if not any(i.name == "UserError" for i in member.interfaces):
                continue
            assert f"`{member.name}`" in table, f"{member.name} is missing from the error table"
            if set(member.fields) - {"code", "message", "field"}:
                assert f"... on {member.name} " in block, f"{name} ignores {member.name}"
