//! AWS error kinds as the Lambda wire protocol names them, with their HTTP status and message key.

use std::fmt;

/// An error code from the AWS service models (botocore's `service-2.json`), with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: a parameter is invalid.
    InvalidParameterValue,
    /// 400: the request body could not be parsed.
    InvalidRequestContent,
    /// 400: a value failed a model constraint (length, pattern, range).
    Validation,
    /// 404: the function, version, alias, layer or statement does not exist.
    ResourceNotFound,
    /// 409: the resource already exists or is in a conflicting state.
    ResourceConflict,
    /// 412: the RevisionId or CodeSha256 precondition did not match.
    PreconditionFailed,
    /// 413: the request payload is too large.
    RequestTooLarge,
    /// 413: the request entity is too large (Invoke payloads, uploads).
    RequestEntityTooLarge,
    /// 429: throttled.
    TooManyRequests,
    /// 400: the code storage limit was exceeded (zip too large).
    CodeStorageExceeded,
    /// 400: the resource policy would be too long.
    PolicyLengthExceeded,
    /// 404: no provisioned concurrency config for this qualifier.
    ProvisionedConcurrencyConfigNotFound,
    /// 415: content type not supported.
    UnsupportedMediaType,
    /// 403: the caller may not perform the action.
    AccessDenied,
    /// 403: the access key id is unknown.
    UnrecognizedClient,
    /// 403: the signature does not match or is expired.
    InvalidSignature,
    /// 403: the request carried no authentication.
    MissingAuthenticationToken,
    /// 403: a presigned URL is malformed or expired.
    IncompleteSignature,
    /// 404: no operation at this path and method.
    UnknownOperation,
    /// 500: an internal error.
    Service,
    /// A code of another service's model (CloudWatch Logs, IAM, STS, KMS, ...), with its status.
    Other {
        /// The error code as that service's model names it.
        code: &'static str,
        /// The HTTP status.
        status: u16,
    },
}

impl ErrorKind {
    /// The error code sent in `x-amzn-ErrorType`.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidParameterValue => "InvalidParameterValueException",
            Self::InvalidRequestContent => "InvalidRequestContentException",
            Self::Validation => "ValidationException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceConflict => "ResourceConflictException",
            Self::PreconditionFailed => "PreconditionFailedException",
            Self::RequestTooLarge => "RequestTooLargeException",
            Self::RequestEntityTooLarge => "RequestEntityTooLargeException",
            Self::TooManyRequests => "TooManyRequestsException",
            Self::CodeStorageExceeded => "CodeStorageExceededException",
            Self::PolicyLengthExceeded => "PolicyLengthExceededException",
            Self::ProvisionedConcurrencyConfigNotFound => {
                "ProvisionedConcurrencyConfigNotFoundException"
            }
            Self::UnsupportedMediaType => "UnsupportedMediaTypeException",
            Self::AccessDenied => "AccessDeniedException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::InvalidSignature => "InvalidSignatureException",
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature => "IncompleteSignatureException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::Service => "ServiceException",
            Self::Other { code, .. } => code,
        }
    }

    /// The HTTP status code AWS answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidParameterValue
            | Self::InvalidRequestContent
            | Self::Validation
            | Self::CodeStorageExceeded
            | Self::PolicyLengthExceeded
            | Self::IncompleteSignature => 400,
            Self::AccessDenied
            | Self::UnrecognizedClient
            | Self::InvalidSignature
            | Self::MissingAuthenticationToken => 403,
            Self::ResourceNotFound
            | Self::ProvisionedConcurrencyConfigNotFound
            | Self::UnknownOperation => 404,
            Self::ResourceConflict => 409,
            Self::PreconditionFailed => 412,
            Self::RequestTooLarge | Self::RequestEntityTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::TooManyRequests => 429,
            Self::Service => 500,
            Self::Other { status, .. } => status,
        }
    }

    /// The JSON key of the message: the service model spells it `message` or `Message` per shape.
    pub fn message_key(self) -> &'static str {
        match self {
            // Lambda's KMS*Exception shapes (the KMS service's own errors render through JSON 1.1).
            Self::Other { code, .. } if code.starts_with("KMS") => "Message",
            Self::ResourceNotFound
            | Self::Service
            | Self::AccessDenied
            | Self::UnrecognizedClient
            | Self::InvalidSignature
            | Self::MissingAuthenticationToken
            | Self::IncompleteSignature
            | Self::UnknownOperation => "Message",
            _ => "message",
        }
    }

    /// `User` for client faults, `Service` for server faults (the body's `Type` field).
    pub fn fault_type(self) -> &'static str {
        if self.status() >= 500 {
            "Service"
        } else {
            "User"
        }
    }
}

/// An AWS-shaped error: a kind plus a human message, rendered on the wire by the API layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    /// The error code and status.
    pub kind: ErrorKind,
    /// The message as AWS words it.
    pub message: String,
    /// `Reason` of a TooManyRequestsException (e.g. `ReservedFunctionConcurrentInvocationLimitExceeded`).
    pub reason: Option<&'static str>,
}

impl AwsError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            reason: None,
        }
    }

    /// InvalidParameterValueException.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameterValue, message)
    }

    /// An error of another service's model: `code` with HTTP `status`.
    pub fn other(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other { code, status }, message)
    }

    /// ResourceNotFoundException.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, message)
    }

    /// ResourceConflictException.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceConflict, message)
    }

    /// PreconditionFailedException.
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PreconditionFailed, message)
    }

    /// ServiceException (internal error; the message must not leak internals).
    pub fn internal() -> Self {
        Self::new(ErrorKind::Service, "An internal error occurred.")
    }

    /// ValidationException in AWS's "1 validation error detected" wording.
    pub fn validation(value: &str, field: &str, constraint: &str) -> Self {
        Self::new(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
            ),
        )
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

/// Result alias for operations that fail with an AWS-shaped error.
pub type AwsResult<T> = Result<T, AwsError>;
