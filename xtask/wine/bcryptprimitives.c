/* Wine 8.0 has no bcryptprimitives.dll, whose ProcessPrng Rust's standard library imports on
 * Windows (real Windows 10 and later have it), so no Rust program starts under it. This is the
 * one function, over RtlGenRandom (advapi32's SystemFunction036), built with mingw by
 * `cargo xtask windows` into the test prefix's system32. It is never shipped in a bundle. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
