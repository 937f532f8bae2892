package org.outlierlab.model.blas;

import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BLAS libraries {@link BlasKernels} chooses among: whether MKL is there, loading it, the C environment OpenBLAS
 * reads when it loads, which library is mapped into this process and what it says it is.
 */
final class BlasLibraries {
  private static final Logger LOG = LoggerFactory.getLogger(BlasKernels.class);

  private BlasLibraries() {}

  // The C library's environment, which OpenBLAS reads when it is loaded (System.getenv is a copy made at start-up).
  // Called before ND4J loads, while no native library of ours reads it.
  static void setenv(String name, String value) {
    int rc = libc().getFunction("setenv").invokeInt(new Object[] {name, value, 1});
    if (rc != 0) {
      throw new IllegalStateException("setenv(" + name + ") failed");
    }
  }

  static void unsetenv(String name) {
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
      return Optional.of(Class.forName("org.bytedeco.mkl.global.mkl_rt", false, BlasLibraries.class.getClassLoader()));
    } catch (ClassNotFoundException e) {
      return Optional.empty();
    }
  }

  /** Loads JavaCPP's MKL presets, if that is where MKL comes from (a system libmkl_rt is loaded by JavaCPP itself). */
  static void loadMkl() {
    mklPresets().ifPresent(org.bytedeco.javacpp.Loader::load);
  }

  /** The path of a BLAS library already mapped into this process, or null. */
  static String loadedBlas() {
    return mappedLibrary("libopenblas").or(() -> mappedLibrary("libmkl_rt")).orElse(null);
  }

  static Optional<String> mappedLibrary(String prefix) {
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
  record Loaded(String library, String kernels) {}

  static Loaded loaded() {
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
    return new Loaded(config[0] + " " + config[1], BlasKernels.Core.named(core).map(c -> c.openblasName).orElse(core));
  }
}
