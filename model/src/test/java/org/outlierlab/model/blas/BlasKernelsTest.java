package org.outlierlab.model.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class BlasKernelsTest {
  // /proc/cpuinfo entries as three kinds of machine print them (trimmed to the fields that are read)
  private static final String ZEN3 = """
      processor	: 0
      vendor_id	: AuthenticAMD
      cpu family	: 25
      model name	: AMD EPYC 7B13
      flags		: fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni

      processor	: 1
      vendor_id	: AuthenticAMD
      flags		: fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni avx512f
      """;
  private static final String SAPPHIRE_RAPIDS = """
      processor	: 0
      vendor_id	: GenuineIntel
      model name	: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
      flags		: fpu sse2 pni fma avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 amx_tile
      """;
  private static final String HASWELL = """
      vendor_id	: GenuineIntel
      model name	: Intel(R) Xeon(R) CPU E5-2673 v3
      flags		: fpu sse2 pni fma avx avx2
      """;
  private static final String SANDY_BRIDGE = """
      vendor_id	: GenuineIntel
      model name	: Intel(R) Xeon(R) CPU E5-2670
      flags		: fpu sse2 pni avx
      """;
  private static final String OLD = """
      vendor_id	: GenuineIntel
      model name	: Intel(R) Core(TM)2 CPU
      flags		: fpu sse2 pni
      """;

  @Test
  void readsTheFirstProcessorOfCpuinfo() {
    CpuFeatures zen = CpuFeatures.parse(ZEN3);
    assertEquals("AuthenticAMD", zen.vendor());
    assertEquals("AMD EPYC 7B13", zen.model());
    assertTrue(zen.has("avx2", "fma") && zen.isAmd());
    assertTrue(!zen.has("avx512f"), "the second processor's flags are not read");
    assertEquals("AMD EPYC 7B13 (avx2, fma, avx)", zen.describe());
  }

  @Test
  void autoForcesTheBestCoreTheInstructionSetsAllow() {
    assertEquals(Optional.of(BlasKernels.Core.ZEN), BlasKernels.autoCore(CpuFeatures.parse(ZEN3)));
    assertEquals(Optional.of(BlasKernels.Core.SKYLAKEX), BlasKernels.autoCore(CpuFeatures.parse(SAPPHIRE_RAPIDS)));
    assertEquals(Optional.of(BlasKernels.Core.HASWELL), BlasKernels.autoCore(CpuFeatures.parse(HASWELL)));
    assertEquals(Optional.of(BlasKernels.Core.SANDYBRIDGE), BlasKernels.autoCore(CpuFeatures.parse(SANDY_BRIDGE)));
    assertEquals(Optional.empty(), BlasKernels.autoCore(CpuFeatures.parse(OLD)));
    BlasKernels.Plan old = BlasKernels.plan("auto", CpuFeatures.parse(OLD), null, false);
    assertNull(old.core(), "no AVX: OpenBLAS's own detection");
    assertTrue(old.reason().contains("own detection"), old.reason());
  }

  @Test
  void planNamesWhatEachSettingRuns() {
    CpuFeatures spr = CpuFeatures.parse(SAPPHIRE_RAPIDS);
    assertEquals(BlasKernels.Core.SKYLAKEX, BlasKernels.plan("auto", spr, null, false).core());
    assertEquals(BlasKernels.Core.HASWELL, BlasKernels.plan("openblas-haswell", spr, null, false).core());
    assertNull(BlasKernels.plan("openblas", spr, null, false).core());
    BlasKernels.Plan env = BlasKernels.plan("auto", spr, "Haswell", false);
    assertNull(env.core(), "OPENBLAS_CORETYPE in the environment is left to OpenBLAS");
    assertTrue(env.reason().contains("OPENBLAS_CORETYPE=Haswell"), env.reason());
    assertEquals(BlasKernels.Library.MKL, BlasKernels.plan("mkl", spr, null, true).library());
  }

  @Test
  void refusesWhatTheMachineCannotRun() {
    IllegalArgumentException avx512 = assertThrows(IllegalArgumentException.class,
        () -> BlasKernels.plan("openblas-skylakex", CpuFeatures.parse(ZEN3), null, false));
    assertTrue(avx512.getMessage().contains("avx512bw") && avx512.getMessage().contains("AMD EPYC 7B13")
        && avx512.getMessage().contains("openblas-zen"), avx512.getMessage());
    IllegalArgumentException mkl = assertThrows(IllegalArgumentException.class,
        () -> BlasKernels.plan("mkl", CpuFeatures.parse(ZEN3), null, false));
    assertTrue(mkl.getMessage().contains("mvn -Pmkl package"), mkl.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> BlasKernels.plan("fastest", CpuFeatures.parse(ZEN3), null, false));
    assertTrue(unknown.getMessage().contains("allowed: auto | openblas | openblas-prescott"), unknown.getMessage());
  }

  @Test
  void supportedSettingsFollowTheFlags() {
    assertTrue(BlasKernels.supportedSettings(CpuFeatures.parse(ZEN3)).containsAll(
        java.util.List.of("auto", "openblas", "openblas-prescott", "openblas-sandybridge", "openblas-haswell",
            "openblas-zen")));
    assertTrue(!BlasKernels.supportedSettings(CpuFeatures.parse(ZEN3)).contains("openblas-skylakex"));
    assertTrue(BlasKernels.supportedSettings(CpuFeatures.parse(SAPPHIRE_RAPIDS)).contains("openblas-skylakex"));
  }

  @Test
  void theProcessRunsTheChosenPathAndItsProductIsChecked() {
    String setting = System.getProperty(BlasUnderTest.PROPERTY, "auto");
    BlasKernels.Choice choice = BlasKernels.apply(setting);
    assertTrue(choice.checkError() < 1e-6, choice.describe());
    BlasKernels.Plan plan = BlasKernels.plan(setting, CpuFeatures.current(), System.getenv(BlasKernels.CORETYPE),
        BlasLibraries.mklAvailable());
    if (plan.core() != null) {
      assertEquals(plan.core().openblasName, choice.kernels(), "OpenBLAS reports the forced kernels: "
          + choice.describe());
    }
    assertTrue(choice.library().startsWith(plan.library() == BlasKernels.Library.MKL ? "MKL" : "OpenBLAS"),
        choice.describe());
    if (setting.equals("openblas") && CpuFeatures.current().has("avx")) {
      // the suite's blas-openblas run sets OPENBLAS_CORETYPE=Prescott, which OpenBLAS's own detection must not see
      assertTrue(!choice.kernels().equals("Prescott"), choice.describe());
    }
    assertEquals(choice, BlasKernels.apply("openblas-prescott"), "a process keeps its first choice");
  }

  @Test
  void aWrongProductIsRefused() {
    BlasKernels.apply(System.getProperty(BlasUnderTest.PROPERTY, "auto"));
    IllegalStateException wrong = assertThrows(IllegalStateException.class,
        () -> ProductCheck.relativeError((x, y) -> Nd4j.gemm(x, y, true, true).addi(1e-3)));
    assertTrue(wrong.getMessage().contains("wrong product") && wrong.getMessage().contains("blas.kernels = openblas"),
        wrong.getMessage());
    assertTrue(ProductCheck.relativeError((x, y) -> Nd4j.gemm(x, y, true, true)) < 1e-6);
  }
}
