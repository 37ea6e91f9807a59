"""Echo handler for the serverless-offline peer (same code as ignis-bench's Python echo)."""


def handler(event, context):
    return event
