/* A checksum in C, built by CMake: FNV-1a over a buffer. */
#include <stddef.h>
#include <stdint.h>

uint64_t weave_fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
