/**
 * Make Jazzer.js 4.0.0's prebuilt addon load on Debian 12.
 *
 * `@jazzer.js/fuzzer@4.0.0` ships `prebuilds/fuzzer-linux-x64.node` built against
 * glibc 2.38 and GCC 13's libstdc++; Debian 12 has glibc 2.36 and GCC 12, so
 * loading it fails with `ERR_DLOPEN_FAILED` ("version `GLIBC_2.38' not found").
 * The addon uses only three symbols from those versions (`__isoc23_strtol`,
 * `__isoc23_strtoul`, `std::ios_base_library_init()`). So, only when the addon
 * does not load as it is:
 * 1. its version needs `GLIBC_2.38` and `GLIBCXX_3.4.32` are marked weak in the
 *    ELF file (`VER_FLG_WEAK`), so the dynamic loader no longer refuses the file;
 * 2. `jazzer-compat.cpp` (those three functions over their older equivalents) is
 *    compiled with g++ into a small library that the fuzzing processes preload.
 * Older Jazzer.js versions (1.x, 2.x) would build from source instead, but their
 * build downloads LLVM's libFuzzer fork from GitHub, which CI cannot reach.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;
/** The versions the prebuilt addon needs beyond Debian 12. */
const MISSING_VERSIONS = new Set(["GLIBC_2.38", "GLIBCXX_3.4.32"]);

/** The addon file Jazzer.js loads on this platform. */
export function addonPath(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("@jazzer.js/fuzzer/package.json"));
  return join(root, "prebuilds", `fuzzer-${process.platform}-${process.arch}.node`);
}

/** Try to load `addon` in a child process; return its error output, or "" when it loads. */
function loadError(addon: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(addon)})`], {
    env,
    encoding: "utf8",
  });
  return result.status === 0 ? "" : result.stderr;
}

/** Mark the version needs in `names` weak in the ELF64 file `path`; return how many were changed. */
export function weakenVersionNeeds(path: string, names: ReadonlySet<string>): number {
  const elf = readFileSync(path);
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      type: elf.readUInt32LE(at + 4),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      link: elf.readUInt32LE(at + 0x28),
      info: elf.readUInt32LE(at + 0x2c),
    };
  };
  let changed = 0;
  for (let i = 0; i < shnum; i++) {
    const verneed = section(i);
    if (verneed.type !== SHT_GNU_VERNEED) continue;
    const strings = section(verneed.link).offset;
    let need = verneed.offset;
    // Elf64_Verneed { vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32 },
    // each followed by vn_cnt Elf64_Vernaux { vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32 }.
    for (let n = 0; n < verneed.info; n++) {
      let aux = need + elf.readUInt32LE(need + 8);
      for (let a = 0; a < elf.readUInt16LE(need + 2); a++) {
        const nameAt = strings + elf.readUInt32LE(aux + 8);
        const name = elf.toString("latin1", nameAt, elf.indexOf(0, nameAt));
        const flags = elf.readUInt16LE(aux + 4);
        if (names.has(name) && !(flags & VER_FLG_WEAK)) {
          elf.writeUInt16LE(flags | VER_FLG_WEAK, aux + 4);
          changed += 1;
        }
        aux += elf.readUInt32LE(aux + 12);
      }
      need += elf.readUInt32LE(need + 12);
    }
  }
  if (changed > 0) writeFileSync(path, elf);
  return changed;
}

/**
 * Return the environment variables a Jazzer.js process needs here (`{}` on glibc
 * 2.38 or later), patching the addon (once; the change is idempotent) and
 * building the preload library under `cacheDir` from `sourceDir`'s
 * `jazzer-compat.cpp` first when needed. Throws when the addon still does not load.
 */
export function jazzerEnvironment(cacheDir: string, sourceDir: string): Record<string, string> {
  const addon = addonPath();
  // LD_BIND_NOW: resolve every symbol at load, so a missing one shows here, not mid-run.
  const strict = { ...process.env, LD_BIND_NOW: "1" };
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const [major = 0, minor = 0] = (report.header?.glibcVersionRuntime ?? "").split(".").map(Number);
  if (major > 2 || (major === 2 && minor >= 38) || process.platform !== "linux") {
    const error = loadError(addon, strict);
    if (error !== "") throw new Error(`the Jazzer.js addon does not load:\n${error}`);
    return {};
  }
  weakenVersionNeeds(addon, MISSING_VERSIONS);
  mkdirSync(cacheDir, { recursive: true });
  const source = join(sourceDir, "jazzer-compat.cpp");
  const library = join(cacheDir, "jazzer-compat.so");
  if (!existsSync(library) || statSync(library).mtimeMs < statSync(source).mtimeMs) {
    const built = spawnSync("g++", ["-O2", "-shared", "-fPIC", "-o", library, source], {
      encoding: "utf8",
    });
    if (built.status !== 0) {
      throw new Error(`g++ could not build ${library}: ${built.error?.message ?? built.stderr}`);
    }
  }
  const env = { LD_PRELOAD: library };
  const error = loadError(addon, { ...strict, ...env });
  if (error !== "") {
    throw new Error(`the Jazzer.js addon does not load even with ${library}:\n${error}`);
  }
  return env;
}
