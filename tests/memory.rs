//! The process-wide allocator setting `main` makes before anything else (`memory::limit_arenas`).
//! Its own test binary, so no other test has created arenas first.

/// Number of malloc arenas (heaps) glibc reports in `malloc_info`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn arenas() -> usize {
    let mut buf: *mut libc::c_char = std::ptr::null_mut();
    let mut len: libc::size_t = 0;
    // SAFETY: open_memstream allocates the buffer it reports through buf/len; malloc_info
    // writes into that stream; the buffer is read only after fclose flushed it, then freed.
    unsafe {
        let stream = libc::open_memstream(&mut buf, &mut len);
        assert!(!stream.is_null(), "open_memstream failed");
        libc::malloc_info(0, stream);
        libc::fclose(stream);
        let xml = std::slice::from_raw_parts(buf.cast::<u8>(), len);
        let count = String::from_utf8_lossy(xml).matches("<heap nr=").count();
        libc::free(buf.cast());
        count
    }
}

// With glibc's default, eight threads allocating at once get up to eight new arenas; after
// limit_arenas they must share MALLOC_ARENAS (the fragmentation fix in src/memory.rs).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn limit_arenas_keeps_threads_to_the_capped_number_of_arenas() {
    parley::memory::limit_arenas();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let held: Vec<Vec<u8>> = (0..1000).map(|i| vec![1u8; 64 + i]).collect();
                barrier.wait();
                held.len()
            })
        })
        .collect();
    let allocated: usize = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    assert_eq!(allocated, 8000);
    let cap = usize::try_from(parley::memory::MALLOC_ARENAS).unwrap_or(usize::MAX);
    let n = arenas();
    assert!(n <= cap, "{n} malloc arenas, cap {cap}");
}
