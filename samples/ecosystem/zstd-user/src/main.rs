//! `zstd-user`: compresses and decompresses data with zstd, whose C code
//! (zstd-sys, built from its bundled source by the `cc` crate) is compiled
//! for XSC by xsc-cc.

fn main() {
    let data: Vec<u8> = (0..200_000u32)
        .flat_map(|i| ((i / 7) % 251).to_le_bytes())
        .collect();
    let compressed = zstd::encode_all(&data[..], 3).expect("compress");
    let back = zstd::decode_all(&compressed[..]).expect("decompress");
    println!(
        "input {} bytes, compressed {} bytes",
        data.len(),
        compressed.len()
    );
    println!("round trip equal: {}", back == data);
    let sum = back
        .iter()
        .fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(b as u64));
    println!("checksum {sum:x}");
}
