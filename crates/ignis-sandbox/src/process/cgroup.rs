//! cgroups for environments: detection of the host's layout (v2 unified, or v1 hierarchies as on
//! hybrid hosts), one cgroup per env with memory, CPU and pids limits, usage readings, removal.
//!
//! Layout: `<mount>/<parent>/<env id>`, where `<parent>` is `ignis/<instance>` by default (see
//! `SandboxOptions::cgroup_parent`). On v1 there is one such directory per controller (memory, cpu,
//! pids); on v2 a single one.

use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::SandboxError;

/// CFS period used for the CPU quota, in microseconds.
const CPU_PERIOD_US: u64 = 100_000;
/// Memory size that buys one full vCPU, as on AWS Lambda.
const MB_PER_VCPU: u64 = 1769;

/// The limits applied to one environment's cgroup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Memory limit in MiB.
    pub memory_mb: u32,
    /// Maximum number of tasks.
    pub pids_max: u32,
    /// Whether to cap CPU time with a CFS quota proportional to memory (else only weights/shares).
    pub cpu_quota: bool,
    /// Raise the quota to at least one full vCPU (the init phase).
    pub boost: bool,
}

impl Limits {
    fn memory_bytes(&self) -> u64 {
        u64::from(self.memory_mb) << 20
    }
    /// CFS quota in microseconds per [`CPU_PERIOD_US`]: 1,769 MiB = one full period.
    fn cpu_quota_us(&self) -> u64 {
        let quota = (u64::from(self.memory_mb) * CPU_PERIOD_US / MB_PER_VCPU).max(1000);
        if self.boost {
            quota.max(CPU_PERIOD_US)
        } else {
            quota
        }
    }
    /// cgroup v1 `cpu.shares` (1,024 = one vCPU's worth).
    fn cpu_shares(&self) -> u64 {
        (u64::from(self.memory_mb) * 1024 / MB_PER_VCPU).max(2)
    }
    /// cgroup v2 `cpu.weight` (100 = one vCPU's worth), within 1..=10000.
    fn cpu_weight(&self) -> u64 {
        (u64::from(self.memory_mb) * 100 / MB_PER_VCPU).clamp(1, 10_000)
    }
}

/// Where the host's cgroups are and which version the driver uses.
#[derive(Debug, Clone)]
pub(crate) enum CgroupLayout {
    /// cgroup v1: one parent directory per controller.
    V1 {
        /// `<memory mount>/<parent>`.
        memory: PathBuf,
        /// `<pids mount>/<parent>`.
        pids: PathBuf,
        /// `<cpu mount>/<parent>`, if the cpu controller is mounted.
        cpu: Option<PathBuf>,
    },
    /// cgroup v2: the parent directory in the unified hierarchy.
    V2 {
        /// `<cgroup2 mount>/<parent>`.
        parent: PathBuf,
        /// Whether the cpu controller is available.
        cpu: bool,
    },
}

/// One line of `/proc/self/mountinfo` that is a cgroup mount.
struct CgroupMount {
    mount_point: PathBuf,
    v2: bool,
    /// Super-block options (v1: the controllers of the hierarchy).
    options: Vec<String>,
}

fn cgroup_mounts() -> Result<Vec<CgroupMount>, SandboxError> {
    let text = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| SandboxError::io("read /proc/self/mountinfo", e))?;
    let mut mounts = Vec::new();
    for line in text.lines() {
        // Fields: id parent maj:min root mount-point options [optional...] - fstype source super-options
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mut right = right.split(' ');
        let fstype = right.next().unwrap_or("");
        let _source = right.next();
        let super_opts = right.next().unwrap_or("");
        let Some(mount_point) = left.split(' ').nth(4) else {
            continue;
        };
        let v2 = match fstype {
            "cgroup2" => true,
            "cgroup" => false,
            _ => continue,
        };
        mounts.push(CgroupMount {
            mount_point: PathBuf::from(unescape_mountinfo(mount_point)),
            v2,
            options: super_opts.split(',').map(str::to_owned).collect(),
        });
    }
    Ok(mounts)
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let oct = &bytes[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                let v = oct
                    .iter()
                    .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl CgroupLayout {
    /// Detect the host's cgroups and create the parent directory `parent` (relative to each
    /// hierarchy's mount point). Prefers v2 when its memory and pids controllers are usable, else
    /// uses the v1 memory, pids (and cpu) hierarchies.
    pub(crate) fn detect(parent: &str) -> Result<Self, SandboxError> {
        if parent.is_empty()
            || parent.starts_with('/')
            || parent
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(SandboxError::InvalidSpec(format!(
                "cgroup parent {parent:?} must be a relative path without '.' or '..' components"
            )));
        }
        let mounts = cgroup_mounts()?;
        // v2: usable only if the root offers memory and pids.
        for m in mounts.iter().filter(|m| m.v2) {
            let controllers =
                fs::read_to_string(m.mount_point.join("cgroup.controllers")).unwrap_or_default();
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            if has("memory") && has("pids") {
                let cpu = has("cpu");
                let dir = m.mount_point.join(parent);
                enable_v2_controllers(&m.mount_point, &dir, cpu)?;
                return Ok(CgroupLayout::V2 { parent: dir, cpu });
            }
        }
        let find = |controller: &str| {
            mounts
                .iter()
                .find(|m| !m.v2 && m.options.iter().any(|o| o == controller))
                .map(|m| m.mount_point.join(parent))
        };
        match (find("memory"), find("pids")) {
            (Some(memory), Some(pids)) => {
                let cpu = find("cpu");
                for dir in [Some(&memory), Some(&pids), cpu.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    fs::create_dir_all(dir)
                        .map_err(|e| SandboxError::io(format!("mkdir {}", dir.display()), e))?;
                }
                Ok(CgroupLayout::V1 { memory, pids, cpu })
            }
            _ => Err(SandboxError::Unsupported(
                "no usable cgroups: need cgroup v2 with the memory and pids controllers, or the \
                 cgroup v1 memory and pids hierarchies mounted"
                    .into(),
            )),
        }
    }

    /// Human-readable summary, e.g. `cgroup v1 (memory, pids, cpu)`.
    pub(crate) fn describe(&self) -> String {
        match self {
            CgroupLayout::V1 { memory, cpu, .. } => format!(
                "cgroup v1 under {} (memory, pids{})",
                memory.display(),
                if cpu.is_some() { ", cpu" } else { "" }
            ),
            CgroupLayout::V2 { parent, cpu } => format!(
                "cgroup v2 under {} (memory, pids{})",
                parent.display(),
                if *cpu { ", cpu" } else { "" }
            ),
        }
    }

    /// The per-env directories for `id` (whether or not they exist).
    fn env_dirs(&self, id: &str) -> Vec<PathBuf> {
        match self {
            CgroupLayout::V1 { memory, pids, cpu } => [Some(memory), Some(pids), cpu.as_ref()]
                .into_iter()
                .flatten()
                .map(|p| p.join(id))
                .collect(),
            CgroupLayout::V2 { parent, .. } => vec![parent.join(id)],
        }
    }

    /// Create the cgroup of env `id` with `limits`. Fails with [`SandboxError::AlreadyExists`] if
    /// it exists (a live env of that id; leftovers of a crash were purged at startup). If anything
    /// fails, what was created is removed again (by `EnvCgroup`'s `Drop`).
    pub(crate) fn create(&self, id: &str, limits: Limits) -> Result<EnvCgroup, SandboxError> {
        let dirs = self.env_dirs(id);
        let mut created = EnvCgroup {
            layout: self.clone(),
            dirs: Vec::with_capacity(dirs.len()),
            limits: None,
        };
        for dir in &dirs {
            match fs::create_dir(dir) {
                Ok(()) => created.dirs.push(dir.clone()),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    return Err(SandboxError::AlreadyExists(id.to_owned()));
                }
                Err(e) => return Err(SandboxError::io(format!("mkdir {}", dir.display()), e)),
            }
        }
        created.apply_limits(limits)?;
        created.limits = Some(limits);
        Ok(created)
    }

    /// The directories this layout creates env cgroups in (one per v1 controller, or one on v2).
    pub(crate) fn parent_dirs(&self) -> Vec<&Path> {
        match self {
            CgroupLayout::V1 { memory, pids, cpu } => [Some(memory), Some(pids), cpu.as_ref()]
                .into_iter()
                .flatten()
                .map(PathBuf::as_path)
                .collect(),
            CgroupLayout::V2 { parent, .. } => vec![parent.as_path()],
        }
    }

    /// Kill the processes of every env cgroup under this layout's parent and remove them (cleanup
    /// after a crashed process that used the same parent).
    pub(crate) fn purge_all(&self) {
        let mut ids: Vec<String> = Vec::new();
        for dir in self.parent_dirs() {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    if let Some(name) = entry.file_name().to_str() {
                        if !ids.iter().any(|i| i == name) {
                            ids.push(name.to_owned());
                        }
                    }
                }
            }
        }
        for id in ids {
            let env = EnvCgroup {
                layout: self.clone(),
                dirs: self.env_dirs(&id),
                limits: None,
            };
            env.kill_all();
            let _ = env.remove(Duration::from_secs(2));
        }
    }

    /// Remove the parent directories if no env cgroup is left in them; best effort, for
    /// shutdown. Recently removed children keep a parent busy for a moment, hence the retries.
    pub(crate) fn remove_parents(&self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        for dir in self.parent_dirs() {
            loop {
                match fs::remove_dir(dir) {
                    Err(e) if is_busy(&e) && Instant::now() < deadline => {
                        let has_children = fs::read_dir(dir).is_ok_and(|entries| {
                            entries
                                .flatten()
                                .any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                        });
                        if has_children {
                            break; // live envs: leave it
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    _ => break,
                }
            }
        }
    }
}

/// Enable the controllers for children of the v2 parent directory.
fn enable_v2_controllers(mount: &Path, dir: &Path, cpu: bool) -> Result<(), SandboxError> {
    let wanted = if cpu {
        "+memory +pids +cpu"
    } else {
        "+memory +pids"
    };
    // Every ancestor from the mount point down to `dir` must delegate the controllers.
    let mut current = mount.to_path_buf();
    let rel = dir.strip_prefix(mount).unwrap_or(Path::new(""));
    let mut chain = vec![current.clone()];
    for comp in rel.components() {
        current.push(comp);
        chain.push(current.clone());
    }
    for (i, level) in chain.iter().enumerate() {
        if i > 0 {
            match fs::create_dir(level) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(SandboxError::io(format!("mkdir {}", level.display()), e)),
            }
        }
        let control = level.join("cgroup.subtree_control");
        let current = fs::read_to_string(&control).unwrap_or_default();
        let missing = wanted
            .split(' ')
            .any(|w| !current.split_whitespace().any(|c| c == &w[1..]));
        if missing {
            fs::write(&control, wanted).map_err(|e| {
                SandboxError::io(
                    format!(
                        "write {wanted:?} to {} (cgroup v2 needs a delegated subtree without \
                         processes of its own; set SandboxOptions::cgroup_parent)",
                        control.display()
                    ),
                    e,
                )
            })?;
        }
    }
    Ok(())
}

/// The cgroup (one dir per v1 controller, or one v2 dir) of one environment.
#[derive(Debug)]
pub(crate) struct EnvCgroup {
    layout: CgroupLayout,
    dirs: Vec<PathBuf>,
    limits: Option<Limits>,
}

fn write_file(path: &Path, value: &str) -> Result<(), SandboxError> {
    fs::write(path, value).map_err(|e| SandboxError::io(format!("write {}", path.display()), e))
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Value of `key` in a flat-keyed file such as `memory.events` or `memory.oom_control`.
fn read_key(path: &Path, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

impl EnvCgroup {
    fn apply_limits(&self, limits: Limits) -> Result<(), SandboxError> {
        let mem = limits.memory_bytes().to_string();
        match &self.layout {
            CgroupLayout::V1 { cpu, .. } => {
                let memory = &self.dirs[0];
                let pids = &self.dirs[1];
                write_file(&memory.join("memory.limit_in_bytes"), &mem)?;
                // memsw exists only with swap accounting; limit == memsw limit means no swap.
                let memsw = memory.join("memory.memsw.limit_in_bytes");
                if memsw.exists() {
                    write_file(&memsw, &mem)?;
                }
                write_file(&pids.join("pids.max"), &limits.pids_max.to_string())?;
                if cpu.is_some() {
                    let cpu_dir = &self.dirs[2];
                    write_file(
                        &cpu_dir.join("cpu.shares"),
                        &limits.cpu_shares().to_string(),
                    )?;
                    if limits.cpu_quota {
                        write_file(
                            &cpu_dir.join("cpu.cfs_period_us"),
                            &CPU_PERIOD_US.to_string(),
                        )?;
                        write_file(
                            &cpu_dir.join("cpu.cfs_quota_us"),
                            &limits.cpu_quota_us().to_string(),
                        )?;
                    }
                }
            }
            CgroupLayout::V2 { cpu, .. } => {
                let dir = &self.dirs[0];
                write_file(&dir.join("memory.max"), &mem)?;
                let swap = dir.join("memory.swap.max");
                if swap.exists() {
                    write_file(&swap, "0")?;
                }
                // On OOM, kill the whole env rather than one process of it.
                let group = dir.join("memory.oom.group");
                if group.exists() {
                    write_file(&group, "1")?;
                }
                write_file(&dir.join("pids.max"), &limits.pids_max.to_string())?;
                if *cpu {
                    write_file(&dir.join("cpu.weight"), &limits.cpu_weight().to_string())?;
                    if limits.cpu_quota {
                        write_file(
                            &dir.join("cpu.max"),
                            &format!("{} {}", limits.cpu_quota_us(), CPU_PERIOD_US),
                        )?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Drop the init-phase CPU boost: back to the quota proportional to memory.
    pub(crate) fn end_boost(&mut self) -> Result<(), SandboxError> {
        let Some(mut limits) = self.limits.filter(|l| l.boost && l.cpu_quota) else {
            return Ok(());
        };
        limits.boost = false;
        let quota = limits.cpu_quota_us();
        match &self.layout {
            CgroupLayout::V1 { cpu: Some(_), .. } => {
                if let Some(dir) = self.dirs.get(2) {
                    write_file(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
                }
            }
            CgroupLayout::V2 { cpu: true, .. } => {
                if let Some(dir) = self.dirs.first() {
                    write_file(&dir.join("cpu.max"), &format!("{quota} {CPU_PERIOD_US}"))?;
                }
            }
            _ => {}
        }
        self.limits = Some(limits);
        Ok(())
    }

    /// The cgroup directories.
    pub(crate) fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    fn memory_dir(&self) -> Option<&PathBuf> {
        self.dirs.first()
    }

    /// Peak memory use in bytes.
    pub(crate) fn max_memory_bytes(&self) -> Option<u64> {
        let dir = self.memory_dir()?;
        match self.layout {
            CgroupLayout::V1 { .. } => read_u64(&dir.join("memory.max_usage_in_bytes")),
            CgroupLayout::V2 { .. } => read_u64(&dir.join("memory.peak")),
        }
    }

    /// Current memory use in bytes.
    pub(crate) fn memory_bytes(&self) -> Option<u64> {
        let dir = self.memory_dir()?;
        match self.layout {
            CgroupLayout::V1 { .. } => read_u64(&dir.join("memory.usage_in_bytes")),
            CgroupLayout::V2 { .. } => read_u64(&dir.join("memory.current")),
        }
    }

    /// Whether the OOM killer killed a process of this cgroup.
    pub(crate) fn oom_killed(&self) -> bool {
        let Some(dir) = self.memory_dir() else {
            return false;
        };
        let kills = match self.layout {
            CgroupLayout::V1 { .. } => read_key(&dir.join("memory.oom_control"), "oom_kill"),
            CgroupLayout::V2 { .. } => read_key(&dir.join("memory.events"), "oom_kill"),
        };
        kills.unwrap_or(0) > 0
    }

    /// Pids of all processes in the cgroup (union over the v1 controllers' directories).
    pub(crate) fn procs(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = self
            .dirs
            .iter()
            .filter_map(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|t| {
                t.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// SIGKILL everything in the cgroup (`cgroup.kill` on v2, each listed pid on v1).
    pub(crate) fn kill_all(&self) {
        if let CgroupLayout::V2 { .. } = self.layout {
            if let Some(dir) = self.dirs.first() {
                if fs::write(dir.join("cgroup.kill"), "1").is_ok() {
                    return;
                }
            }
        }
        for pid in self.procs() {
            // SAFETY: kill(2) with a pid read from cgroup.procs; SIGKILL has no handler to run.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }

    /// Remove the cgroup directories, retrying while the kernel still reports them busy (dying
    /// tasks leave a cgroup asynchronously) for at most `patience`.
    pub(crate) fn remove(&self, patience: Duration) -> Result<(), SandboxError> {
        let deadline = Instant::now() + patience;
        let mut pause = Duration::from_micros(100);
        for dir in &self.dirs {
            loop {
                match fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::NotFound => break,
                    Err(e) if is_busy(&e) && Instant::now() < deadline => {
                        std::thread::sleep(pause);
                        pause = (pause * 2).min(Duration::from_millis(20));
                    }
                    Err(e) => {
                        return Err(SandboxError::io(format!("rmdir {}", dir.display()), e));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Drop for EnvCgroup {
    /// Best effort: a cgroup whose processes are gone is removed (one attempt, no waiting).
    fn drop(&mut self) {
        for dir in &self.dirs {
            let _ = fs::remove_dir(dir);
        }
    }
}

fn is_busy(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EBUSY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_proportional_to_memory() {
        let l = |mb| Limits {
            boost: false,
            memory_mb: mb,
            pids_max: 1,
            cpu_quota: true,
        };
        assert_eq!(l(1769).cpu_quota_us(), 100_000);
        assert_eq!(l(3538).cpu_quota_us(), 200_000);
        assert_eq!(l(128).cpu_quota_us(), 7235);
        assert_eq!(l(16).cpu_quota_us(), 1000);
        assert_eq!(l(1769).cpu_shares(), 1024);
        assert_eq!(l(1769).cpu_weight(), 100);
        assert_eq!(l(10240).cpu_weight(), 578);
    }

    #[test]
    fn mountinfo_unescape() {
        assert_eq!(unescape_mountinfo(r"/a\040b"), "/a b");
        assert_eq!(unescape_mountinfo(r"/plain"), "/plain");
        assert_eq!(unescape_mountinfo(r"/end\04"), r"/end\04");
    }
}
