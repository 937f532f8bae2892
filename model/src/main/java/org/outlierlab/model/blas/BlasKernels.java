package org.outlierlab.model.blas;

import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 * those allow. Every choice is checked on a small product against a reference before any work runs.
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
    plan(setting, CpuFeatures.current(), System.getenv(CORETYPE), setting.equals("mkl") && mklAvailable());
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
    if (mklAvailable()) {
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
    String early = loadedBlas();
    if (early != null) {
      reason = "loaded before the choice could be made; blas.kernels = " + setting + " was not applied";
      LOG.warn("blas: {} was loaded before blas.kernels was applied: nothing can change it in this process", early);
    } else {
      Plan plan = plan(setting, CpuFeatures.current(), System.getenv(CORETYPE), mklAvailable());
      prepare(plan, setting.equals("openblas"));
      reason = plan.reason();
    }
    Nd4j.getBackend(); // loads libnd4j and its BLAS, with the settings above
    Loaded loaded = loaded();
    current = new Choice(setting, loaded.library(), loaded.kernels(), reason,
        checkProduct((x, y) -> Nd4j.gemm(x, y, true, true)));
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
      loadMkl();
      System.setProperty("org.bytedeco.openblas.load", "mkl_rt"); // JavaCPP's presets then bind BLAS calls to MKL
      return;
    }
    if (plan.core() != null) {
      setenv(CORETYPE, plan.core().openblasName);
    } else if (ownDetection) {
      unsetenv(CORETYPE); // whatever the environment says
    }
  }

  // The C library's environment, which OpenBLAS reads when it is loaded (System.getenv is a copy made at start-up).
  // Called before ND4J loads, while no native library of ours reads it.
  private static void setenv(String name, String value) {
    int rc = libc().getFunction("setenv").invokeInt(new Object[] {name, value, 1});
    if (rc != 0) {
      throw new IllegalStateException("setenv(" + name + ") failed");
    }
  }

  private static void unsetenv(String name) {
    libc().getFunction("unsetenv").invokeInt(new Object[] {name});
  }

  private static NativeLibrary libc() {
    return NativeLibrary.getInstance(Platform.C_LIBRARY_NAME);
  }

  /**
   * Whether MKL can be loaded, found without loading it: JavaCPP's MKL presets on the class path, or libmkl_rt in a
   * directory of the library path (where JavaCPP's System.loadLibrary fallback finds it).
   */
  static boolean mklAvailable() {
    return mklPresets().isPresent() || systemMkl().isPresent();
  }

  private static Optional<Path> systemMkl() {
    List<String> dirs = new ArrayList<>(List.of(System.getProperty("java.library.path", "").split(":")));
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      dirs.addAll(List.of(ld.split(":")));
    }
    for (String dir : dirs) {
      if (!dir.isEmpty() && Files.isRegularFile(Path.of(dir, "libmkl_rt.so"))) {
        return Optional.of(Path.of(dir, "libmkl_rt.so"));
      }
    }
    return Optional.empty();
  }

  private static Optional<Class<?>> mklPresets() {
    try {
      // not initialised: its static initialiser would load MKL
      return Optional.of(Class.forName("org.bytedeco.mkl.global.mkl_rt", false, BlasKernels.class.getClassLoader()));
    } catch (ClassNotFoundException e) {
      return Optional.empty();
    }
  }

  /** Loads JavaCPP's MKL presets, if that is where MKL comes from (a system libmkl_rt is loaded by JavaCPP itself). */
  private static void loadMkl() {
    mklPresets().ifPresent(org.bytedeco.javacpp.Loader::load);
  }

  /** The path of a BLAS library already mapped into this process, or null. */
  private static String loadedBlas() {
    return mappedLibrary("libopenblas").or(() -> mappedLibrary("libmkl_rt")).orElse(null);
  }

  private static Optional<String> mappedLibrary(String prefix) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        int slash = line.indexOf('/');
        if (slash >= 0) {
          String path = line.substring(slash);
          if (Path.of(path).getFileName().toString().startsWith(prefix)) {
            return Optional.of(path);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("no /proc/self/maps", e);
    }
    return Optional.empty();
  }

  /** What the BLAS ND4J loaded says it is: library and version, and the kernels it runs. */
  private record Loaded(String library, String kernels) {}

  private static Loaded loaded() {
    if (!Nd4j.getEnvironment().isCPU()) {
      return new Loaded("cuBLAS", "CUDA");
    }
    Optional<String> mkl = mappedLibrary("libmkl_rt");
    if (mkl.isPresent()) {
      Memory buffer = new Memory(256);
      NativeLibrary.getInstance(mkl.get()).getFunction("MKL_Get_Version_String").invokeVoid(new Object[] {buffer, 256});
      java.util.regex.Matcher version =
          java.util.regex.Pattern.compile("Version ([0-9][0-9.]*)").matcher(buffer.getString(0));
      return new Loaded(version.find() ? "MKL " + version.group(1) : "MKL", "MKL's CPU-dispatched");
    }
    Optional<NativeLibrary> openblas = mappedLibrary("libopenblas_nolapack").or(() -> mappedLibrary("libopenblas"))
        .map(NativeLibrary::getInstance);
    if (openblas.isEmpty()) {
      return new Loaded("an unknown BLAS", "unknown");
    }
    String[] config = openblas.get().getFunction("openblas_get_config").invokeString(new Object[0], false).split(" ");
    String core = openblas.get().getFunction("openblas_get_corename").invokeString(new Object[0], false);
    return new Loaded(config[0] + " " + config[1], Core.named(core).map(c -> c.openblasName).orElse(core));
  }

  /**
   * A float product {@code (xᵀ)(yᵀ)} (ND4J's BLAS in use), both operands transposed and of odd sizes (the vector
   * kernels' edges), against a double reference: the largest error relative to Σ|a||b|. Fails above float rounding.
   */
  static double checkProduct(java.util.function.BinaryOperator<INDArray> transposedProduct) {
    int m = 67;
    int k = 45;
    int n = 33;
    Random random = new Random(7);
    double[][] a = new double[k][m];
    double[][] b = new double[n][k];
    INDArray at = Nd4j.create(DataType.FLOAT, k, m);
    INDArray bt = Nd4j.create(DataType.FLOAT, n, k);
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < m; j++) {
        a[i][j] = (float) random.nextGaussian();
        at.putScalar(i, j, a[i][j]);
      }
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        b[i][j] = (float) random.nextGaussian();
        bt.putScalar(i, j, b[i][j]);
      }
    }
    INDArray c = transposedProduct.apply(at, bt); // (aᵀ)(bᵀ): m × n
    double worst = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double exact = 0;
        double scale = 0;
        for (int p = 0; p < k; p++) {
          exact += a[p][i] * b[j][p];
          scale += Math.abs(a[p][i] * b[j][p]);
        }
        worst = Math.max(worst, Math.abs(c.getDouble(i, j) - exact) / scale);
      }
    }
    if (!(worst < 1e-5)) {
      throw new IllegalStateException(String.format(Locale.ROOT, "the BLAS library computes a wrong product (relative "
          + "error %.2e on a %dx%dx%d check); run with blas.kernels = openblas", worst, m, k, n));
    }
    return worst;
  }
}
