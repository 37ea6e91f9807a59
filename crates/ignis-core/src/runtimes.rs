//! Lambda runtime identifiers: every value of the service model's `Runtime` enum, its language family,
//! its place in AWS's deprecation schedule, and the errors AWS gives for unknown or blocked runtimes.
//!
//! The identifiers and their order are those of botocore's `Runtime` shape (Lambda 2015-03-31 model).
//! The schedule follows AWS's "Lambda runtimes" page (deprecation date, block function create, block
//! function update), as of [`TABLE_AS_OF`]. AWS moves these dates often; update the table with them.

use crate::error::{AwsError, AwsResult};
use std::fmt;

/// A calendar date (UTC) in the deprecation schedule; ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuntimeDate {
    /// Year, e.g. 2026.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31.
    pub day: u8,
}

impl RuntimeDate {
    /// The date `year`-`month`-`day`.
    pub const fn new(year: u16, month: u8, day: u8) -> Self {
        Self { year, month, day }
    }
}

impl fmt::Display for RuntimeDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The date the schedule in [`RUNTIMES`] reflects; [`validate_runtime`] judges blocks as of this day.
pub const TABLE_AS_OF: RuntimeDate = RuntimeDate::new(2026, 11, 23);

/// What a request does with a runtime: create a function, or update an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeUse {
    /// CreateFunction: refused from the runtime's "block function create" date.
    Create,
    /// UpdateFunctionConfiguration / UpdateFunctionCode: refused from the "block function update" date.
    Update,
}

/// One runtime identifier with its family and deprecation schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// The identifier as sent on the wire, e.g. `python3.12`.
    pub id: &'static str,
    /// The language family: `nodejs`, `python`, `java`, `dotnet`, `ruby`, `go`, `provided` or `custom`.
    pub family: &'static str,
    /// The day the runtime is (or was) deprecated; `None` when none is scheduled.
    pub deprecated: Option<RuntimeDate>,
    /// From this day, creating functions with the runtime is refused.
    pub block_create: Option<RuntimeDate>,
    /// From this day, updating functions that use the runtime is refused.
    pub block_update: Option<RuntimeDate>,
    /// The runtime AWS recommends instead, named in the "no longer supported" error.
    pub successor: Option<&'static str>,
}

impl RuntimeInfo {
    /// Whether the runtime is deprecated on `date`.
    pub fn is_deprecated_on(&self, date: RuntimeDate) -> bool {
        self.deprecated.is_some_and(|d| date >= d)
    }

    /// Whether creating functions with this runtime is refused on `date`.
    pub fn creates_blocked_on(&self, date: RuntimeDate) -> bool {
        self.block_create.is_some_and(|d| date >= d)
    }

    /// Whether updating functions with this runtime is refused on `date`.
    pub fn updates_blocked_on(&self, date: RuntimeDate) -> bool {
        self.block_update.is_some_and(|d| date >= d)
    }

    /// Whether creates are blocked as of [`TABLE_AS_OF`].
    pub fn creates_blocked(&self) -> bool {
        self.creates_blocked_on(TABLE_AS_OF)
    }

    /// Whether the runtime is deprecated as of [`TABLE_AS_OF`].
    pub fn is_deprecated(&self) -> bool {
        self.is_deprecated_on(TABLE_AS_OF)
    }

    /// Whether `use_` is refused on `date`.
    pub fn blocked_on(&self, date: RuntimeDate, use_: RuntimeUse) -> bool {
        match use_ {
            RuntimeUse::Create => self.creates_blocked_on(date),
            RuntimeUse::Update => self.updates_blocked_on(date),
        }
    }
}

const fn d(year: u16, month: u8, day: u8) -> Option<RuntimeDate> {
    Some(RuntimeDate::new(year, month, day))
}

const fn rt(
    id: &'static str,
    family: &'static str,
    deprecated: Option<RuntimeDate>,
    block_create: Option<RuntimeDate>,
    block_update: Option<RuntimeDate>,
    successor: Option<&'static str>,
) -> RuntimeInfo {
    RuntimeInfo {
        id,
        family,
        deprecated,
        block_create,
        block_update,
        successor,
    }
}

const fn current(id: &'static str, family: &'static str) -> RuntimeInfo {
    rt(id, family, None, None, None, None)
}

const NODE: Option<&str> = Some("nodejs24.x");
const PY: Option<&str> = Some("python3.14");
const JAVA: Option<&str> = Some("java25");
const DOTNET: Option<&str> = Some("dotnet10");
const RUBY: Option<&str> = Some("ruby4.0");
const OS_ONLY: Option<&str> = Some("provided.al2023");

/// Every runtime of the service model's `Runtime` enum, in the model's order.
///
/// Dates are AWS's published schedule (deprecation, block function create, block function update).
/// Runtimes without a deprecation scheduled before 2028 carry no dates.
pub static RUNTIMES: &[RuntimeInfo] = &[
    rt(
        "nodejs",
        "nodejs",
        d(2016, 10, 31),
        d(2016, 10, 31),
        d(2016, 10, 31),
        NODE,
    ),
    rt(
        "nodejs4.3",
        "nodejs",
        d(2020, 3, 5),
        d(2020, 3, 5),
        d(2020, 3, 5),
        NODE,
    ),
    rt(
        "nodejs6.10",
        "nodejs",
        d(2019, 8, 12),
        d(2019, 8, 12),
        d(2019, 8, 12),
        NODE,
    ),
    rt(
        "nodejs8.10",
        "nodejs",
        d(2020, 3, 6),
        d(2020, 3, 6),
        d(2020, 3, 6),
        NODE,
    ),
    rt(
        "nodejs10.x",
        "nodejs",
        d(2021, 7, 30),
        d(2021, 7, 30),
        d(2022, 2, 14),
        NODE,
    ),
    rt(
        "nodejs12.x",
        "nodejs",
        d(2023, 3, 31),
        d(2023, 3, 31),
        d(2023, 4, 30),
        NODE,
    ),
    rt(
        "nodejs14.x",
        "nodejs",
        d(2023, 12, 4),
        d(2024, 1, 9),
        d(2027, 3, 3),
        NODE,
    ),
    rt(
        "nodejs16.x",
        "nodejs",
        d(2024, 6, 12),
        d(2027, 2, 1),
        d(2027, 3, 3),
        NODE,
    ),
    rt(
        "nodejs18.x",
        "nodejs",
        d(2025, 9, 1),
        d(2027, 2, 1),
        d(2027, 3, 3),
        NODE,
    ),
    rt(
        "nodejs20.x",
        "nodejs",
        d(2026, 4, 30),
        d(2027, 2, 1),
        d(2027, 3, 3),
        NODE,
    ),
    rt(
        "nodejs22.x",
        "nodejs",
        d(2027, 4, 30),
        d(2027, 6, 1),
        d(2027, 7, 1),
        NODE,
    ),
    current("nodejs24.x", "nodejs"),
    rt(
        "java8",
        "java",
        d(2024, 1, 8),
        d(2024, 2, 8),
        d(2027, 3, 3),
        JAVA,
    ),
    rt(
        "java8.al2",
        "java",
        d(2027, 6, 30),
        d(2027, 7, 31),
        d(2027, 8, 31),
        JAVA,
    ),
    rt(
        "java11",
        "java",
        d(2027, 6, 30),
        d(2027, 7, 31),
        d(2027, 8, 31),
        JAVA,
    ),
    rt(
        "java17",
        "java",
        d(2027, 6, 30),
        d(2027, 7, 31),
        d(2027, 8, 31),
        JAVA,
    ),
    current("java21", "java"),
    current("java25", "java"),
    rt(
        "python2.7",
        "python",
        d(2021, 7, 15),
        d(2021, 7, 15),
        d(2022, 5, 30),
        PY,
    ),
    rt(
        "python3.6",
        "python",
        d(2022, 7, 18),
        d(2022, 7, 18),
        d(2022, 8, 29),
        PY,
    ),
    rt(
        "python3.7",
        "python",
        d(2023, 12, 4),
        d(2024, 1, 9),
        d(2027, 3, 3),
        PY,
    ),
    rt(
        "python3.8",
        "python",
        d(2024, 10, 14),
        d(2027, 2, 1),
        d(2027, 3, 3),
        PY,
    ),
    rt(
        "python3.9",
        "python",
        d(2025, 12, 15),
        d(2027, 2, 1),
        d(2027, 3, 3),
        PY,
    ),
    rt(
        "python3.10",
        "python",
        d(2026, 6, 30),
        d(2027, 2, 1),
        d(2027, 3, 3),
        PY,
    ),
    rt(
        "python3.11",
        "python",
        d(2027, 6, 30),
        d(2027, 7, 31),
        d(2027, 8, 31),
        PY,
    ),
    current("python3.12", "python"),
    current("python3.13", "python"),
    current("python3.14", "python"),
    rt(
        "dotnetcore1.0",
        "dotnet",
        d(2019, 6, 27),
        d(2019, 7, 30),
        d(2019, 7, 30),
        DOTNET,
    ),
    rt(
        "dotnetcore2.0",
        "dotnet",
        d(2019, 5, 30),
        d(2019, 5, 30),
        d(2019, 5, 30),
        DOTNET,
    ),
    rt(
        "dotnetcore2.1",
        "dotnet",
        d(2022, 1, 5),
        d(2022, 1, 5),
        d(2022, 4, 13),
        DOTNET,
    ),
    rt(
        "dotnetcore3.1",
        "dotnet",
        d(2023, 4, 3),
        d(2023, 4, 3),
        d(2023, 5, 3),
        DOTNET,
    ),
    rt(
        "dotnet6",
        "dotnet",
        d(2024, 12, 20),
        d(2027, 2, 1),
        d(2027, 3, 3),
        DOTNET,
    ),
    rt(
        "dotnet8",
        "dotnet",
        d(2026, 11, 10),
        d(2027, 2, 1),
        d(2027, 3, 3),
        DOTNET,
    ),
    current("dotnet10", "dotnet"),
    rt(
        "nodejs4.3-edge",
        "nodejs",
        d(2019, 4, 30),
        d(2019, 4, 30),
        d(2019, 4, 30),
        NODE,
    ),
    rt(
        "go1.x",
        "go",
        d(2024, 1, 8),
        d(2024, 2, 8),
        d(2027, 3, 3),
        OS_ONLY,
    ),
    rt(
        "ruby2.5",
        "ruby",
        d(2021, 7, 30),
        d(2021, 7, 30),
        d(2022, 3, 31),
        RUBY,
    ),
    rt(
        "ruby2.7",
        "ruby",
        d(2023, 12, 7),
        d(2024, 1, 9),
        d(2027, 3, 3),
        RUBY,
    ),
    rt(
        "ruby3.2",
        "ruby",
        d(2026, 3, 31),
        d(2027, 2, 1),
        d(2027, 3, 3),
        RUBY,
    ),
    rt(
        "ruby3.3",
        "ruby",
        d(2027, 3, 31),
        d(2027, 4, 30),
        d(2027, 5, 31),
        RUBY,
    ),
    current("ruby3.4", "ruby"),
    current("ruby4.0", "ruby"),
    rt(
        "provided",
        "provided",
        d(2024, 1, 8),
        d(2024, 2, 8),
        d(2027, 3, 3),
        OS_ONLY,
    ),
    rt(
        "provided.al2",
        "provided",
        d(2026, 6, 30),
        d(2027, 2, 1),
        d(2027, 3, 3),
        OS_ONLY,
    ),
    current("provided.al2023", "provided"),
    current("nodejs26.x", "nodejs"),
    current("python3.15", "python"),
    current("java8.al2023", "java"),
    current("java11.al2023", "java"),
    current("java17.al2023", "java"),
    current("custom", "custom"),
];

/// The runtimes AWS accepts in a layer's `CompatibleRuntimes` / `CompatibleRuntime`, in the order of
/// AWS's own enum-violation message (captured from AWS by LocalStack's snapshot tests). Layer
/// compatibility also accepts every identifier of [`RUNTIMES`]; those missing here are appended by
/// [`layer_runtime_enum_list`].
pub static LAYER_RUNTIMES: &[&str] = &[
    "ruby3.5",
    "ruby2.6",
    "dotnetcore1.0",
    "python3.7",
    "nodejs8.10",
    "nasa",
    "ruby2.7",
    "python2.7-greengrass",
    "dotnetcore2.0",
    "python3.8",
    "java21",
    "dotnet6",
    "dotnetcore2.1",
    "python3.9",
    "java11",
    "nodejs6.10",
    "provided",
    "dotnetcore3.1",
    "dotnet8",
    "java25",
    "java17",
    "nodejs",
    "nodejs4.3",
    "java8.al2",
    "go1.x",
    "dotnet10",
    "nodejs20.x",
    "go1.9",
    "byol",
    "nodejs10.x",
    "provided.al2023",
    "nodejs22.x",
    "python3.10",
    "java8",
    "nodejs12.x",
    "python3.11",
    "nodejs24.x",
    "nodejs8.x",
    "python3.12",
    "nodejs14.x",
    "nodejs8.9",
    "nodejs26.x",
    "python3.13",
    "python3.14",
    "nodejs16.x",
    "python3.15",
    "provided.al2",
    "nodejs4.3-edge",
    "nodejs18.x",
    "ruby3.2",
    "python3.4",
    "ruby3.3",
    "ruby3.4",
    "ruby2.5",
    "python3.6",
    "python2.7",
];

/// The schedule entry of `rt`, if it is a model runtime identifier (exact, case-sensitive).
pub fn runtime_info(rt: &str) -> Option<&'static RuntimeInfo> {
    RUNTIMES.iter().find(|r| r.id == rt)
}

/// Whether `rt` is a value of the model's `Runtime` enum.
pub fn is_known_runtime(rt: &str) -> bool {
    runtime_info(rt).is_some()
}

/// The language family of `rt` (`python`, `nodejs`, `java`, `dotnet`, `ruby`, `go`, `provided`, `custom`).
pub fn runtime_family(rt: &str) -> Option<&'static str> {
    runtime_info(rt).map(|r| r.family)
}

/// Whether `rt` is accepted as a layer compatible runtime (AWS's layer list or a model runtime).
pub fn is_layer_runtime(rt: &str) -> bool {
    LAYER_RUNTIMES.contains(&rt) || is_known_runtime(rt)
}

/// The identifiers accepted for `use_` on `date`, in model order.
pub fn accepted_runtimes_on(date: RuntimeDate, use_: RuntimeUse) -> Vec<&'static str> {
    RUNTIMES
        .iter()
        .filter(|r| !r.blocked_on(date, use_))
        .map(|r| r.id)
        .collect()
}

/// `[a, b, ...]`: the runtimes creatable as of [`TABLE_AS_OF`], as AWS lists them in its enum error.
pub fn runtime_enum_list() -> String {
    runtime_enum_list_on(TABLE_AS_OF)
}

/// `[a, b, ...]`: the runtimes creatable on `date`.
pub fn runtime_enum_list_on(date: RuntimeDate) -> String {
    format!(
        "[{}]",
        accepted_runtimes_on(date, RuntimeUse::Create).join(", ")
    )
}

/// `[a, b, ...]`: AWS's layer runtime list followed by the model runtimes it lacks.
pub fn layer_runtime_enum_list() -> String {
    let mut all: Vec<&str> = LAYER_RUNTIMES.to_vec();
    for r in RUNTIMES {
        if !all.contains(&r.id) {
            all.push(r.id);
        }
    }
    format!("[{}]", all.join(", "))
}

/// The InvalidParameterValueException AWS gives for a runtime that is not in its enum:
/// `Value x at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [...] or be a valid ARN`.
pub fn unknown_runtime_error_on(rt: &str, date: RuntimeDate) -> AwsError {
    AwsError::invalid(format!(
        "Value {rt} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: {} or be a valid ARN",
        runtime_enum_list_on(date)
    ))
}

/// The InvalidParameterValueException AWS gives for a runtime past its block date:
/// `The runtime parameter of x is no longer supported for creating or updating AWS Lambda functions. ...`.
pub fn deprecated_runtime_error(info: &RuntimeInfo) -> AwsError {
    let mut msg = format!(
        "The runtime parameter of {} is no longer supported for creating or updating AWS Lambda functions.",
        info.id
    );
    if let Some(next) = info.successor {
        msg.push_str(&format!(
            " We recommend you use the new runtime ({next}) while creating or updating functions."
        ));
    }
    AwsError::invalid(msg)
}

/// Validates the `Runtime` of CreateFunction as of [`TABLE_AS_OF`]: unknown identifiers and runtimes
/// whose creates are blocked are refused with AWS's InvalidParameterValueException messages.
pub fn validate_runtime(rt: &str) -> AwsResult<()> {
    validate_runtime_on(rt, TABLE_AS_OF, RuntimeUse::Create)
}

/// Validates a `Runtime` set by UpdateFunctionConfiguration as of [`TABLE_AS_OF`].
pub fn validate_runtime_for_update(rt: &str) -> AwsResult<()> {
    validate_runtime_on(rt, TABLE_AS_OF, RuntimeUse::Update)
}

/// Validates `rt` for `use_` on `date` (for callers that follow the wall clock).
pub fn validate_runtime_on(rt: &str, date: RuntimeDate, use_: RuntimeUse) -> AwsResult<()> {
    match runtime_info(rt) {
        None => Err(unknown_runtime_error_on(rt, date)),
        Some(info) if info.blocked_on(date, use_) => Err(deprecated_runtime_error(info)),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn table_is_unique_and_consistent() {
        for (i, r) in RUNTIMES.iter().enumerate() {
            assert!(
                RUNTIMES[i + 1..].iter().all(|o| o.id != r.id),
                "duplicate {}",
                r.id
            );
            if let (Some(c), Some(u)) = (r.block_create, r.block_update) {
                assert!(c <= u, "{}: create block after update block", r.id);
            }
            if let (Some(dep), Some(c)) = (r.deprecated, r.block_create) {
                assert!(dep <= c, "{}: create blocked before deprecation", r.id);
            }
            if let Some(s) = r.successor {
                let next = runtime_info(s).expect("successor is a runtime");
                assert!(!next.creates_blocked(), "{} successor {s} is blocked", r.id);
                assert!(next.family == r.family || r.family == "go", "{}", r.id);
            }
            assert!(
                r.block_create.is_none() || r.successor.is_some(),
                "{}",
                r.id
            );
        }
        for l in LAYER_RUNTIMES {
            assert!(
                LAYER_RUNTIMES.iter().filter(|x| *x == l).count() == 1,
                "{l}"
            );
        }
    }

    #[test]
    fn families() {
        let cases = [
            ("python3.12", Some("python")),
            ("python2.7", Some("python")),
            ("nodejs", Some("nodejs")),
            ("nodejs4.3-edge", Some("nodejs")),
            ("nodejs22.x", Some("nodejs")),
            ("java8.al2", Some("java")),
            ("java17.al2023", Some("java")),
            ("dotnetcore3.1", Some("dotnet")),
            ("dotnet8", Some("dotnet")),
            ("ruby3.4", Some("ruby")),
            ("go1.x", Some("go")),
            ("provided", Some("provided")),
            ("provided.al2", Some("provided")),
            ("provided.al2023", Some("provided")),
            ("custom", Some("custom")),
            ("Python3.12", None),
            ("python3.12 ", None),
            ("", None),
            ("python", None),
        ];
        for (rt, fam) in cases {
            assert_eq!(runtime_family(rt), fam, "{rt}");
        }
    }

    #[test]
    fn accepted_runtimes() {
        for rt in [
            "python3.12",
            "python3.13",
            "python3.14",
            "python3.8",
            "python3.9",
            "nodejs20.x",
            "nodejs22.x",
            "nodejs24.x",
            "java21",
            "java8.al2",
            "dotnet8",
            "ruby3.3",
            "provided.al2",
            "provided.al2023",
        ] {
            assert_eq!(validate_runtime(rt), Ok(()), "{rt}");
        }
    }

    #[test]
    fn deprecated_runtime_messages() {
        let cases = [
            (
                "python2.7",
                "The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (python3.14) while creating or updating functions.",
            ),
            (
                "nodejs12.x",
                "The runtime parameter of nodejs12.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (nodejs24.x) while creating or updating functions.",
            ),
            (
                "go1.x",
                "The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (provided.al2023) while creating or updating functions.",
            ),
            (
                "provided",
                "The runtime parameter of provided is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (provided.al2023) while creating or updating functions.",
            ),
        ];
        for (rt, msg) in cases {
            let e = validate_runtime(rt).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidParameterValue);
            assert_eq!(e.message, msg);
        }
        for rt in [
            "java8",
            "python3.7",
            "ruby2.7",
            "nodejs14.x",
            "dotnetcore3.1",
            "nodejs",
        ] {
            assert!(validate_runtime(rt).is_err(), "{rt}");
        }
    }

    #[test]
    fn unknown_runtime_message() {
        let e = validate_runtime("dotnetcore2.2").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidParameterValue);
        assert!(e.message.starts_with(
            "Value dotnetcore2.2 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs16.x, nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x, java8.al2, "
        ), "{}", e.message);
        assert!(
            e.message.ends_with(", custom] or be a valid ARN"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("python2.7"));
        assert!(!e.message.contains(" java8,"));
    }

    #[test]
    fn schedule_over_time() {
        let py39 = runtime_info("python3.9").unwrap();
        assert!(py39.is_deprecated());
        assert!(!py39.creates_blocked());
        assert!(py39.creates_blocked_on(RuntimeDate::new(2027, 2, 1)));
        assert!(!py39.creates_blocked_on(RuntimeDate::new(2027, 1, 31)));
        assert!(validate_runtime_on(
            "python3.9",
            RuntimeDate::new(2027, 2, 1),
            RuntimeUse::Create
        )
        .is_err());
        assert!(validate_runtime_on(
            "python3.9",
            RuntimeDate::new(2027, 2, 1),
            RuntimeUse::Update
        )
        .is_ok());
        assert!(validate_runtime_on(
            "python3.9",
            RuntimeDate::new(2027, 3, 3),
            RuntimeUse::Update
        )
        .is_err());
        // Creates of java8 are blocked, updates of existing java8 functions still allowed today.
        assert!(validate_runtime("java8").is_err());
        assert!(validate_runtime_for_update("java8").is_ok());
        assert!(validate_runtime_for_update("python2.7").is_err());
        assert!(!runtime_enum_list_on(RuntimeDate::new(2027, 2, 1)).contains("python3.9"));
        assert_eq!(RuntimeDate::new(2027, 2, 1).to_string(), "2027-02-01");
    }

    #[test]
    fn layer_runtimes() {
        for rt in [
            "nasa",
            "byol",
            "python2.7",
            "java17.al2023",
            "ruby4.0",
            "python3.12",
        ] {
            assert!(is_layer_runtime(rt), "{rt}");
        }
        assert!(!is_layer_runtime("python9"));
        let list = layer_runtime_enum_list();
        assert!(list.starts_with("[ruby3.5, ruby2.6, dotnetcore1.0, "));
        assert!(
            list.ends_with(
                ", python2.7, ruby4.0, java8.al2023, java11.al2023, java17.al2023, custom]"
            ),
            "{list}"
        );
    }

    #[test]
    fn odd_inputs_never_panic() {
        let long = "x".repeat(100_000);
        for s in ["", " ", "\u{0}", "ü", "python3.12\n", "🦀", &long] {
            assert!(validate_runtime(s).is_err());
            assert!(runtime_family(s).is_none());
        }
    }

    /// Cross-checks the identifiers and their order against botocore's model when it is on disk.
    #[test]
    fn matches_service_model_when_available() {
        let Ok(text) = std::fs::read_to_string("/tmp/bc/lambda.json") else {
            return;
        };
        let model: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ids: Vec<&str> = model["shapes"]["Runtime"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let ours: Vec<&str> = RUNTIMES.iter().map(|r| r.id).collect();
        assert_eq!(ours, ids);
    }
}
