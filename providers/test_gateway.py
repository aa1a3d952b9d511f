"""The built-in ``test`` gateway: sends nothing, keeps each message for reading back, low quota."""

from providers.base import (
    Accepted,
    BaseProvider,
    ConfigProblem,
    GatewayConfig,
    GatewayType,
    OutboundMessage,
    Parameter,
    SendResult,
    Transport,
)

DEFAULT_DAILY_QUOTA = 50


class TestGateway(BaseProvider):
    __test__ = False  # not a pytest test class

    type = GatewayType(
        key="test",
        name="Test gateway (built in)",
        url_editable=False,
        keeps_text=True,
        description="Keeps messages in smsauth (read them with smsMessages) instead of sending "
        "them; for trying the flows without a provider account. Low daily quota.",
        parameters=(
            Parameter(
                name="DAILY_QUOTA",
                label="Daily quota",
                kind="integer",
                default=DEFAULT_DAILY_QUOTA,
                help="Messages this gateway accepts per UTC day (1-1000).",
            ),
        ),
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        quota = config.parameters.get("DAILY_QUOTA", DEFAULT_DAILY_QUOTA)
        if not 1 <= quota <= 1000:
            return [ConfigProblem("parameters.DAILY_QUOTA", "must be between 1 and 1000")]
        return []

    def daily_quota(self, config: GatewayConfig) -> int | None:
        return int(config.parameters.get("DAILY_QUOTA", DEFAULT_DAILY_QUOTA))

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: Transport
    ) -> SendResult:
        return Accepted(provider_message_id=f"test-{message.reference}", delivered=True)


provider = TestGateway()
