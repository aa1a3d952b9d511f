"""The ``smpp`` provider: one SMPP 3.4 session per message, like privacyIDEA's SMPP provider.

``send`` connects to SMSC_HOST:SMSC_PORT, binds as a transmitter (SYSTEM_ID, PASSWORD,
SYSTEM_TYPE), sends one submit_sm per part of the text (``providers.smpp_text``), reads each part's
message ID from submit_sm_resp, unbinds and closes. The connect, every write and every read wait
at most the gateway's timeout. A connection that fails, times out or is dropped raises
``TransportError``; a refusal by the SMSC is ``Rejected``, or ``Unavailable`` for the statuses that
say "try later" (throttled, queue full, system error). The PDUs are in ``providers.smpp_codec``,
the text encoding in ``providers.smpp_text`` and the session I/O in ``providers.smpp_session``.
Delivery receipts do not come back on this session: with REGISTERED_DELIVERY on, the process that
sends keeps a receiver bound to the same SMSC for them (``providers.smpp_receipts``).
"""

import secrets

from providers.base import (
    Accepted,
    BaseProvider,
    ConfigProblem,
    GatewayConfig,
    GatewayType,
    OutboundMessage,
    Parameter,
    Rejected,
    SendResult,
    Transport,
    Unavailable,
)
from providers.smpp_codec import (
    ESME_RMSGQFUL,
    ESME_ROK,
    ESME_RSYSERR,
    ESME_RTHROTTLED,
    ESME_RUNKNOWNERR,
    GENERIC_NACK,
    BindTransmitter,
    Pdu,
    SubmitSm,
    status_text,
)
from providers.smpp_session import open_session
from providers.smpp_text import split_message

#: Statuses after which another try (later, or through another gateway) may work.
TRANSIENT_STATUSES = frozenset({ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RSYSERR})
#: C-octet string limits of SMPP 3.4 (characters, without the NUL).
LIMITS = {"SYSTEM_ID": 15, "PASSWORD": 8, "SYSTEM_TYPE": 12}
TON_NPI = ("S_ADDR_TON", "S_ADDR_NPI", "D_ADDR_TON", "D_ADDR_NPI")


def _integer(name: str, label: str, help: str, default: int | None = None) -> Parameter:
    return Parameter(name=name, label=label, kind="integer", default=default, help=help)


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def source_address(config: GatewayConfig) -> tuple[str, int, int]:
    """S_ADDR (else the sender ID) without a leading +, and its TON and NPI.

    Unless set, TON/NPI are 1/1 (international, ISDN) for a number, 5/0 (alphanumeric, unknown)
    for a name and 0/0 when there is no source address (the SMSC fills in its default).
    """
    params = config.parameters
    address = params.get("S_ADDR") or config.sender_id or ""
    number = address.removeprefix("+")
    is_number = number.isascii() and number.isdigit()
    ton, npi = (1, 1) if is_number else (5, 0) if address else (0, 0)
    return (
        (number if is_number else address),
        _or(params.get("S_ADDR_TON"), ton),
        _or(params.get("S_ADDR_NPI"), npi),
    )


def requests(
    message: OutboundMessage, config: GatewayConfig
) -> tuple[BindTransmitter, list[SubmitSm]]:
    """The bind and one submit_sm per part of the text; ``ValueError`` for what SMPP can't carry."""
    params = config.parameters
    sms = split_message(message.text, reference=secrets.randbelow(256))
    source, source_ton, source_npi = source_address(config)
    bind = BindTransmitter(
        params["SYSTEM_ID"], params.get("PASSWORD") or "", params.get("SYSTEM_TYPE") or ""
    )
    parts = [
        SubmitSm(
            source_addr=source,
            destination_addr=message.to.removeprefix("+"),
            short_message=part,
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            dest_addr_ton=_or(params.get("D_ADDR_TON"), 1),
            dest_addr_npi=_or(params.get("D_ADDR_NPI"), 1),
            esm_class=sms.esm_class,
            registered_delivery=0 if params.get("REGISTERED_DELIVERY") is False else 1,
            data_coding=sms.data_coding,
        )
        for part in sms.parts
    ]
    for body in (bind, *parts):
        body.encode()  # raises PduError (a ValueError) for a field that does not fit
    return bind, parts


def _failed(pdu: Pdu) -> bool:
    return pdu.status != ESME_ROK or pdu.command_id == GENERIC_NACK


def _refusal(what: str, pdu: Pdu) -> Rejected | Unavailable:
    status = pdu.status or ESME_RUNKNOWNERR  # a generic_nack without a status
    reason = f"{what}: {status_text(status)}"
    return Unavailable(reason) if status in TRANSIENT_STATUSES else Rejected(reason)


class SmppProvider(BaseProvider):
    type = GatewayType(
        key="smpp",
        name="SMPP (SMSC)",
        url_editable=False,
        description="Sends through an SMS center (SMSC) with SMPP 3.4: one session per message, "
        "bound as a transmitter; with delivery receipts on, a receiver session stays bound to "
        "take them. The SMPP credentials are the parameters SYSTEM_ID and PASSWORD; "
        "the account's user name and password, URL and proxy are not used. The source address "
        "is S_ADDR, else the sender ID.",
        parameters=(
            Parameter(
                name="SMSC_HOST",
                label="SMSC host",
                required=True,
                destination=True,
                help="Host name or IP address of the SMS center, without port.",
            ),
            _integer("SMSC_PORT", "SMSC port", "The SMSC's SMPP port, usually 2775.", 2775),
            Parameter(
                name="SYSTEM_ID",
                label="System ID",
                required=True,
                help="The SMPP system_id the SMSC operator gave you (the bind user name, at most "
                "15 characters). SMPP uses this, not the account's user name.",
            ),
            Parameter(
                name="PASSWORD",
                label="SMPP password",
                required=True,
                secret=True,
                help="The bind password (at most 8 characters; write-only). SMPP uses this, not "
                "the account's password.",
            ),
            Parameter(
                name="SYSTEM_TYPE",
                label="System type",
                default="",
                help="The system_type to bind with (at most 12 characters); usually empty, ask "
                "your SMSC operator.",
            ),
            Parameter(
                name="S_ADDR",
                label="Source address",
                help="The sender shown on the phone: a number (international, + optional) or a "
                "name of at most 11 characters. Empty: the account's sender ID.",
            ),
            _integer(
                "S_ADDR_TON",
                "Source TON",
                "Type of number of the source address. Empty: 1 (international) for a number, 5 "
                "(alphanumeric) for a name, 0 when there is no source address.",
            ),
            _integer(
                "S_ADDR_NPI",
                "Source NPI",
                "Numbering plan of the source address. Empty: 1 (ISDN/E.164) for a number, 0 "
                "(unknown) for a name or no source address.",
            ),
            _integer(
                "D_ADDR_TON",
                "Destination TON",
                "Type of number of the recipient; 1 (international): the number is sent in "
                "international format without +.",
                1,
            ),
            _integer("D_ADDR_NPI", "Destination NPI", "Numbering plan of the recipient.", 1),
            Parameter(
                name="REGISTERED_DELIVERY",
                label="Delivery receipts",
                kind="boolean",
                default=True,
                help="Ask the SMSC for a delivery receipt for each message (registered_delivery) "
                "and keep a receiver session bound (bind_receiver, same credentials) to take them.",
            ),
        ),
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        params, problems = config.parameters, []
        host = params.get("SMSC_HOST") or ""
        if not host or any(ch in host for ch in "/@?# "):
            problems.append(ConfigProblem("parameters.SMSC_HOST", "must be a host name or IP"))
        if not 1 <= (params.get("SMSC_PORT") or 0) <= 65535:
            problems.append(ConfigProblem("parameters.SMSC_PORT", "must be from 1 to 65535"))
        for name, limit in LIMITS.items():
            value = params.get(name) or ""
            if len(value) > limit or not value.isascii():
                message = f"must be at most {limit} ASCII characters (SMPP 3.4)"
                problems.append(ConfigProblem(f"parameters.{name}", message))
        for name in TON_NPI:
            if params.get(name) is not None and not 0 <= params[name] <= 255:
                problems.append(ConfigProblem(f"parameters.{name}", "must be from 0 to 255"))
        field = "parameters.S_ADDR" if params.get("S_ADDR") else "senderId"
        address, ton, _ = source_address(config)
        if len(address) > 20 or not address.isascii():
            problems.append(ConfigProblem(field, "must be at most 20 ASCII characters for SMPP"))
        elif ton == 5 and len(address) > 11:
            problems.append(ConfigProblem(field, "a sender name must be at most 11 characters"))
        if config.proxy is not None:
            problems.append(ConfigProblem("proxy.host", "the SMPP type cannot use a proxy"))
        return problems

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: Transport
    ) -> SendResult:
        try:
            bind, parts = requests(message, config)
        except ValueError as exc:  # checked when saved, except a text too long for 255 parts
            return Rejected(f"cannot send this message through SMPP: {exc}")
        params = config.parameters
        host, port = params["SMSC_HOST"], int(params.get("SMSC_PORT") or 2775)
        async with open_session(host, port, config.timeout_seconds, transport) as session:
            bound = await session.request(bind)
            if _failed(bound):
                return _refusal("bind refused", bound)
            ids = []
            for number, part in enumerate(parts, 1):
                answer = await session.request(part)
                if _failed(answer):
                    where = f" for part {number} of {len(parts)}" if len(parts) > 1 else ""
                    await session.unbind_quietly()
                    return _refusal(f"submit_sm refused{where}", answer)
                ids.append(getattr(answer.body, "message_id", ""))
            await session.unbind_quietly()
        return Accepted(provider_message_id=",".join(filter(None, ids)) or None)


provider = SmppProvider()
