package org.outlierlab.jobs.train;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.blas.BlasKernels;

/** Which ND4J backend a process runs, and a clear failure when it cannot load one. */
final class Nd4jBackend {
  /** The logger of ND4J's warnings about op properties without a field (log4j2.properties says why they are noise). */
  static final String PROPERTY_WARNINGS = "org.nd4j.autodiff.functions.DifferentialFunction";

  private Nd4jBackend() {}

  /**
   * Loads the backend on the BLAS path {@code blasKernels} chooses for this machine (the first call in a process
   * decides), or fails with what to do (the CUDA jar needs CUDA 11.6 libraries on every executor).
   */
  static BlasKernels.Choice require(String blasKernels) {
    quietPropertyWarnings();
    try {
      return BlasKernels.apply(blasKernels);
    } catch (IllegalArgumentException | IllegalStateException e) { // a setting this CPU cannot run, a wrong product
      throw new IllegalStateException("on " + hostName() + ": " + e.getMessage(), e);
    } catch (Throwable e) { // an UnsatisfiedLinkError or NoClassDefFoundError from JavaCPP, or ND4J's own exception
      throw new IllegalStateException("ND4J could not load its backend on " + hostName() + " (" + e + "). The default "
          + "jar needs Linux on x86-64; the GPU jar (mvn -Pcuda package) needs the CUDA 11.6 runtime libraries "
          + "(libcudart.so.11.0, cuBLAS, cuDNN 8) on the library path and an NVIDIA GPU with a matching driver on "
          + "every executor. Install them, or submit the default CPU jar.", e);
    }
  }

  /**
   * Quiets ND4J's property warnings as log4j2.properties does where it is the log configuration (bin/oflab): an
   * executor, or a driver under spark-submit, starts with Spark's configuration instead, which loads before the
   * application jar. A level set to error or above is left alone.
   */
  static void quietPropertyWarnings() {
    if (LogManager.getLogger(PROPERTY_WARNINGS).getLevel().isLessSpecificThan(Level.WARN)) {
      Configurator.setLevel(PROPERTY_WARNINGS, Level.ERROR);
    }
  }

  /** "CpuBackend (2 threads)" or "CUDABackend on NVIDIA H100 (device 0)". */
  static String describe() {
    require();
    String backend = Nd4j.getBackend().getClass().getSimpleName();
    Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
    if (env.get("cuda.devicesInformation") instanceof List<?> devices && !devices.isEmpty()
        && devices.get(0) instanceof Map<?, ?> first) {
      return backend + " on " + first.get("cuda.deviceName") + " (" + devices.size() + " visible)";
    }
    return backend + " (" + env.getOrDefault("omp.threads", "?") + " threads)";
  }

  /** Loads the backend on the BLAS path already chosen in this process, or on blas.kernels' default. */
  static void require() {
    if (BlasKernels.current().isEmpty()) {
      require("auto");
    }
  }

  /** Whether ND4J runs on the CUDA backend. */
  static boolean onGpu() {
    require();
    return Nd4j.getBackend().getClass().getSimpleName().startsWith("CUDA");
  }

  static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "an unknown host";
    }
  }
}
