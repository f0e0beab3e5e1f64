//! Handing freed heap memory back to the operating system.
//!
//! glibc's malloc keeps the pages of freed blocks mapped unless they sit at the top of a heap.
//! The daemon's first poll of a big feed list is a burst (40,000 articles for 2,000 feeds in
//! `benches/load.sh`); the blocks it frees are scattered among long-lived ones (sled's cache),
//! so the thread arenas keep them, and each later cycle's allocations land in a different
//! mix of arenas and holes. In that bench glibc held 217 MiB with 129 MiB in use after five
//! cycles, and RSS crept by about 1 MiB a cycle while the bytes in use grew by 0.2 MiB.
//! `malloc_trim(0)` on that process took RSS from 231 MiB to 157 MiB at once. A different
//! allocator was measured too: mimalloc held more (332 MiB RSS after five cycles), so the fix
//! stays with glibc and trims.

/// Returns the free pages of every malloc arena to the system (glibc's `malloc_trim(0)`,
/// which also releases whole free pages inside an arena, not only at its top). Called by
/// the daemon when its ingest queue drains, so RSS follows the memory actually in use
/// instead of the peak of the last burst. A no-op with other C libraries.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and shrinks the allocator's own free lists, under the
    // arenas' locks; it has no preconditions and never invalidates live allocations.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How many malloc arenas the process may use (glibc's `M_ARENA_MAX`). glibc's default is
/// eight per core, so each tokio worker and blocking thread gets an arena of its own and the
/// blocks a burst frees stay scattered over all of them. In `benches/load.sh` (2,000 feeds, a
/// new item per feed per poll) two arenas held RSS about 10% lower at the same cycle, with
/// no change in cycle time that the run could see: 149–169 MiB over cycles 23–29 against
/// 170–190 MiB with glibc's default.
pub const MALLOC_ARENAS: i32 = 2;

/// Caps glibc's malloc arenas at [`MALLOC_ARENAS`], unless the operator set
/// `MALLOC_ARENA_MAX` (glibc has then applied it already, and the operator's choice wins).
/// Called first thing in `main`, before the runtime starts its threads: the cap only
/// stops arenas from being created, it never merges existing ones. A no-op with other C
/// libraries.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter under the allocator's own lock;
        // M_ARENA_MAX affects arenas created later and never touches live allocations.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// Resident pages of this process, from /proc/self/statm.
    fn resident_bytes() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
        let pages: u64 = statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        pages * u64::try_from(page).unwrap_or(4096)
    }

    // Without the trim, holes left by a burst stay resident; release_free must give them
    // back (a no-op or a wrong call leaves the 200 MiB below resident and fails this).
    #[test]
    fn release_free_gives_back_the_holes_a_burst_leaves() {
        // On a thread of its own, so the blocks come from one thread arena, as in the daemon.
        let freed = std::thread::spawn(|| {
            // 400,000 blocks of 1 KiB; keep every 16th, so no free run reaches a heap's top.
            let mut blocks: Vec<Vec<u8>> =
                (0..400_000).map(|i| vec![(i % 251) as u8; 1024]).collect();
            let mut kept = Vec::new();
            for (i, b) in blocks.drain(..).enumerate() {
                if i % 16 == 0 {
                    kept.push(b);
                }
            }
            let before = resident_bytes();
            super::release_free();
            let after = resident_bytes();
            drop(kept);
            before.saturating_sub(after)
        })
        .join()
        .unwrap_or(0);
        // About 370 MiB were freed; at least 200 MiB must leave RSS.
        assert!(freed > 200 << 20, "only {} MiB released", freed >> 20);
    }
}
