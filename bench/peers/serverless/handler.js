// Echo handler for the serverless-offline peer: returns the event, like the Python echo.
exports.handler = async (event) => event;
