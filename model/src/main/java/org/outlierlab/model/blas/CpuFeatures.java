package org.outlierlab.model.blas;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

/**
 * What this machine's CPU is and which instruction sets it (and the kernel) enable, from {@code /proc/cpuinfo}:
 * the flags there are the ones the OS supports too (an AVX-512 CPU under a kernel that does not save its registers
 * lists no avx512 flags). Off Linux the flags are empty and only the library's own detection is used.
 *
 * @param vendor GenuineIntel, AuthenticAMD, ... or "unknown"
 * @param model the model name, e.g. "AMD EPYC 7B13"
 */
public record CpuFeatures(String vendor, String model, Set<String> flags) {
  private static final Path CPUINFO = Path.of("/proc/cpuinfo");

  public static CpuFeatures current() {
    try {
      return Files.isReadable(CPUINFO) ? parse(Files.readString(CPUINFO)) : unknown();
    } catch (IOException e) {
      return unknown();
    }
  }

  private static CpuFeatures unknown() {
    return new CpuFeatures("unknown", System.getProperty("os.arch"), Set.of());
  }

  /** The first processor's entry of a /proc/cpuinfo text (x86: vendor_id, model name, flags). */
  static CpuFeatures parse(String cpuinfo) {
    String vendor = "unknown";
    String model = "unknown";
    Set<String> flags = new TreeSet<>();
    for (String line : cpuinfo.split("\n")) {
      if (line.isBlank()) {
        if (!flags.isEmpty()) {
          break; // the first processor's entry is enough: a machine's cores share one instruction set
        }
        continue;
      }
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      switch (key) {
        case "vendor_id" -> vendor = value;
        case "model name" -> model = value;
        case "flags" -> flags.addAll(Arrays.asList(value.split("\\s+")));
        default -> { }
      }
    }
    return new CpuFeatures(vendor, model, Set.copyOf(flags));
  }

  public boolean has(String... required) {
    return flags.containsAll(Arrays.asList(required));
  }

  /** The flags of {@code required} this CPU lacks. */
  public Set<String> missing(Set<String> required) {
    Set<String> missing = new TreeSet<>(required);
    missing.removeAll(flags);
    return missing;
  }

  public boolean isAmd() {
    return vendor.equals("AuthenticAMD") || vendor.equals("HygonGenuine");
  }

  /** "AMD EPYC 7B13 (avx2, fma)" or "Intel Xeon ... (avx512f, avx2, fma)": the model and the flags that matter here. */
  public String describe() {
    StringBuilder isa = new StringBuilder();
    for (String flag : new String[] {"avx512f", "avx2", "fma", "avx"}) {
      if (flags.contains(flag)) {
        isa.append(isa.length() == 0 ? "" : ", ").append(flag);
      }
    }
    return model + (isa.length() == 0 ? "" : " (" + isa + ")");
  }
}
