package org.outlierlab.model.blas;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BLAS library and kernels a process multiplies matrices with (the setting {@code blas.kernels}), chosen once per
 * process before ND4J loads its native libraries: OpenBLAS picks its kernels when it is loaded (reading
 * {@code OPENBLAS_CORETYPE}), and JavaCPP picks which library to load then ({@code org.bytedeco.openblas.load}).
 *
 * <p>Why: OpenBLAS's run-time detection knows only the CPU models of its release; on a newer one it falls back to
 * an older core's kernels, e.g. the SSE3 "Prescott" kernels on an AVX-512 Xeon, which run sgemm at a fifth of the
 * machine's speed. The instruction sets the CPU reports are a sounder guide: {@code auto} forces the best core
 * those allow. Every choice is checked on a small product against a reference before any work runs
 * ({@link ProductCheck}).
 *
 * <p>The libraries themselves, found, loaded and asked what they are: {@link BlasLibraries}.
 */
public final class BlasKernels {
  private static final Logger LOG = LoggerFactory.getLogger(BlasKernels.class);
  /** The environment variable OpenBLAS reads when it is loaded. */
  static final String CORETYPE = "OPENBLAS_CORETYPE";

  /** OpenBLAS cores (of its DYNAMIC_ARCH x86-64 build) that can be forced, with the instruction sets each needs. */
  public enum Core {
    PRESCOTT("Prescott", "pni"),
    SANDYBRIDGE("Sandybridge", "avx"),
    HASWELL("Haswell", "avx2", "fma"),
    ZEN("Zen", "avx2", "fma"),
    SKYLAKEX("SkylakeX", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd");

    final String openblasName;
    final Set<String> needs;

    Core(String openblasName, String... needs) {
      this.openblasName = openblasName;
      this.needs = Set.of(needs);
    }

    String setting() {
      return "openblas-" + name().toLowerCase(Locale.ROOT);
    }

    boolean runsOn(CpuFeatures cpu) {
      return cpu.missing(needs).isEmpty();
    }

    static Optional<Core> named(String openblasName) {
      for (Core c : values()) {
        if (c.openblasName.equalsIgnoreCase(openblasName)) {
          return Optional.of(c);
        }
      }
      return Optional.empty();
    }
  }

  /** The allowed values of blas.kernels. */
  public static List<String> settings() {
    List<String> all = new ArrayList<>(List.of("auto", "openblas"));
    for (Core c : Core.values()) {
      all.add(c.setting());
    }
    all.add("mkl");
    return all;
  }

  /**
   * What a setting means on a CPU: the library, the OpenBLAS core to force (null: OpenBLAS's own detection) and why.
   *
   * @param environmentCore OPENBLAS_CORETYPE as the process was started with, or null
   * @throws IllegalArgumentException for a value that is not allowed, or a core this CPU cannot run
   */
  static Plan plan(String setting, CpuFeatures cpu, String environmentCore, boolean mklAvailable) {
    if (setting.equals("auto")) {
      if (environmentCore != null && !environmentCore.isBlank()) {
        return new Plan(Library.OPENBLAS, null, "auto: " + CORETYPE + "=" + environmentCore + " in the environment");
      }
      return autoCore(cpu)
          .map(c -> new Plan(Library.OPENBLAS, c, "auto: " + c.openblasName + " kernels for " + cpu.describe()))
          .orElse(new Plan(Library.OPENBLAS, null, "auto: OpenBLAS's own detection for " + cpu.describe()));
    }
    if (setting.equals("openblas")) {
      return new Plan(Library.OPENBLAS, null, "blas.kernels = openblas: OpenBLAS's own detection");
    }
    if (setting.equals("mkl")) {
      if (!mklAvailable) {
        throw new IllegalArgumentException("blas.kernels = mkl, but Intel MKL is not on this machine: build with "
            + "'mvn -Pmkl package' (adds JavaCPP's MKL redistributable) or install it (Debian: libmkl-rt), or choose "
            + "another value; allowed: " + String.join(" | ", settings()));
      }
      return new Plan(Library.MKL, null, "blas.kernels = mkl");
    }
    for (Core c : Core.values()) {
      if (c.setting().equals(setting)) {
        Set<String> missing = cpu.missing(c.needs);
        if (!missing.isEmpty()) {
          throw new IllegalArgumentException("blas.kernels = " + setting + " needs the CPU flags " + missing
              + ", which " + cpu.describe() + " does not have; choose auto, or a core among "
              + supportedSettings(cpu));
        }
        return new Plan(Library.OPENBLAS, c, "blas.kernels = " + setting);
      }
    }
    throw new IllegalArgumentException("blas.kernels = '" + setting + "' is not allowed; allowed: "
        + String.join(" | ", settings()));
  }

  /**
   * Checks a setting against this machine before any work starts (the same check every executor makes for its own
   * CPU when it loads ND4J).
   *
   * @throws IllegalArgumentException naming the allowed values, or the CPU flags a forced core needs
   */
  public static void validate(String setting) {
    plan(setting, CpuFeatures.current(), System.getenv(CORETYPE),
        setting.equals("mkl") && BlasLibraries.mklAvailable());
  }

  /** The best OpenBLAS core the CPU's instruction sets allow (AMD's AVX2 parts get the Zen tuning). */
  static Optional<Core> autoCore(CpuFeatures cpu) {
    if (Core.SKYLAKEX.runsOn(cpu)) {
      return Optional.of(Core.SKYLAKEX);
    }
    if (Core.HASWELL.runsOn(cpu)) {
      return Optional.of(cpu.isAmd() ? Core.ZEN : Core.HASWELL);
    }
    if (Core.SANDYBRIDGE.runsOn(cpu)) {
      return Optional.of(Core.SANDYBRIDGE);
    }
    return Optional.empty();
  }

  /** The values of blas.kernels this CPU can run (what the test suite runs under, one by one). */
  public static List<String> supportedSettings(CpuFeatures cpu) {
    List<String> out = new ArrayList<>(List.of("auto", "openblas"));
    for (Core c : Core.values()) {
      if (c.runsOn(cpu)) {
        out.add(c.setting());
      }
    }
    if (BlasLibraries.mklAvailable()) {
      out.add("mkl");
    }
    return out;
  }

  enum Library { OPENBLAS, MKL }

  record Plan(Library library, Core core, String reason) {}

  /**
   * What this process runs on: {@code library} "OpenBLAS 0.3.19" or "MKL 2022.0.1"; {@code kernels} the core
   * OpenBLAS reports using ("Zen"), or MKL's own dispatch; {@code checkError} the relative error of the start-up check.
   */
  public record Choice(String setting, String library, String kernels, String reason, double checkError) {
    /** "OpenBLAS 0.3.19, Zen kernels (auto: Zen kernels for AMD EPYC (avx2, fma)); sgemm checked (6e-8)". */
    public String describe() {
      return String.format(Locale.ROOT, "%s, %s kernels (%s); sgemm checked (rel. error %.1e)", library, kernels,
          reason, checkError);
    }
  }

  private static Choice current;

  private BlasKernels() {}

  /**
   * Chooses the BLAS path for {@code setting} and loads ND4J with it, once per process; returns what runs. A later
   * call returns the first choice (a process cannot load its BLAS twice) and warns if it asked for another.
   *
   * @throws IllegalArgumentException for a setting this machine cannot run (nothing is loaded then)
   * @throws IllegalStateException when the chosen library computes a wrong product
   */
  public static synchronized Choice apply(String setting) {
    if (current != null) {
      if (!current.setting().equals(setting)) {
        LOG.warn("blas.kernels = {} asked for, but this process already runs {} (chosen for blas.kernels = {}); a "
            + "process loads its BLAS once", setting, current.describe(), current.setting());
      }
      return current;
    }
    String reason;
    String early = BlasLibraries.loadedBlas();
    if (early != null) {
      reason = "loaded before the choice could be made; blas.kernels = " + setting + " was not applied";
      LOG.warn("blas: {} was loaded before blas.kernels was applied: nothing can change it in this process", early);
    } else {
      Plan plan = plan(setting, CpuFeatures.current(), System.getenv(CORETYPE), BlasLibraries.mklAvailable());
      prepare(plan, setting.equals("openblas"));
      reason = plan.reason();
    }
    Nd4j.getBackend(); // loads libnd4j and its BLAS, with the settings above
    BlasLibraries.Loaded loaded = BlasLibraries.loaded();
    current = new Choice(setting, loaded.library(), loaded.kernels(), reason,
        ProductCheck.relativeError((x, y) -> Nd4j.gemm(x, y, true, true)));
    LOG.info("blas: {}", current.describe());
    return current;
  }

  /** The choice made in this process, if any. */
  public static synchronized Optional<Choice> current() {
    return Optional.ofNullable(current);
  }

  /** Sets what the plan needs before the libraries load; {@code ownDetection}: clear any forced core. */
  private static void prepare(Plan plan, boolean ownDetection) {
    if (plan.library() == Library.MKL) {
      BlasLibraries.loadMkl();
      System.setProperty("org.bytedeco.openblas.load", "mkl_rt"); // JavaCPP's presets then bind BLAS calls to MKL
      return;
    }
    if (plan.core() != null) {
      BlasLibraries.setenv(CORETYPE, plan.core().openblasName);
    } else if (ownDetection) {
      BlasLibraries.unsetenv(CORETYPE); // whatever the environment says
    }
  }
}
