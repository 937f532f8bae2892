package org.outlierlab.model.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each optimiser against the same update computed by hand in plain doubles. */
class OptimizerTest {
  static final double[][] W0 = {{0.5, -1.0, 2.0}, {0.25, 0.0, -0.75}};
  static final double[] B0 = {0.1, -0.2};

  /** The gradient at step s (1-based) of matrix entry (i, j) / vector entry i: fixed, varied numbers. */
  static double gw(int s, int i, int j) {
    return Math.sin(1.0 + s + 3 * i + j) * (1 + i);
  }

  static double gb(int s, int i) {
    return Math.cos(2.0 * s + i);
  }

  static Map<String, INDArray> params() {
    return params(DataType.DOUBLE);
  }

  static Map<String, INDArray> params(DataType type) {
    Map<String, INDArray> p = new LinkedHashMap<>();
    p.put("w", Nd4j.createFromArray(W0).castTo(type));
    p.put("gain", Nd4j.createFromArray(B0).castTo(type));
    return p;
  }

  static Map<String, INDArray> grads(int s) {
    double[][] w = new double[2][3];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) {
        w[i][j] = gw(s, i, j);
      }
    }
    double[] b = {gb(s, 0), gb(s, 1)};
    Map<String, INDArray> g = new LinkedHashMap<>();
    g.put("w", Nd4j.createFromArray(w));
    g.put("gain", Nd4j.createFromArray(b));
    return g;
  }

  /** Every entry on its own thread at once, as a multi-threaded model's loop may run them. */
  static final ParameterLoop CONCURRENT = (arrays, body) -> arrays.entrySet().stream()
      .map(e -> java.util.concurrent.CompletableFuture.runAsync(() -> body.accept(e.getKey(), e.getValue())))
      .toList().forEach(java.util.concurrent.CompletableFuture::join);

  /** Steps {@code from} to {@code to}, the parameters updated concurrently (the hand-computed results are serial). */
  static void run(Optimizer opt, Map<String, INDArray> p, int from, int to, double lr) {
    for (int s = from; s <= to; s++) {
      Map<String, INDArray> g = new LinkedHashMap<>();
      grads(s).forEach((name, a) -> g.put(name, a.castTo(p.get(name).dataType())));
      opt.step(p, g, lr, CONCURRENT);
    }
  }

  static void assertClose(double[][] w, double[] b, Map<String, INDArray> p) {
    assertClose(w, b, p, 1e-12);
  }

  static void assertClose(double[][] w, double[] b, Map<String, INDArray> p, double tolerance) {
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) {
        assertEquals(w[i][j], p.get("w").getDouble(i, j), tolerance, "w[" + i + "][" + j + "]");
      }
      assertEquals(b[i], p.get("gain").getDouble(i), tolerance, "gain[" + i + "]");
    }
  }

  /** AdamW by hand, with ε in either place ({@link #adamUpdate}); for hf an ε large enough that the placement shows. */
  @ParameterizedTest
  @CsvSource({"TORCH, 1e-8", "HF, 1e-3"})
  void adamWMatchesHandComputedUpdatesAndDecaysOnlyMatrices(EpsPlacement placement, double eps) {
    double lr = 0.01, b1 = 0.9, b2 = 0.99, wd = 0.1;
    double[][] w = {W0[0].clone(), W0[1].clone()};
    double[] b = B0.clone();
    double[][] mw = new double[2][3], vw = new double[2][3];
    double[] mb = new double[2], vb = new double[2];
    for (int s = 1; s <= 3; s++) {
      double c1 = 1 - Math.pow(b1, s), c2 = 1 - Math.pow(b2, s);
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          double g = gw(s, i, j);
          w[i][j] *= 1 - lr * wd;
          mw[i][j] = b1 * mw[i][j] + (1 - b1) * g;
          vw[i][j] = b2 * vw[i][j] + (1 - b2) * g * g;
          w[i][j] -= adamUpdate(placement, lr, mw[i][j], vw[i][j], c1, c2, eps);
        }
        double g = gb(s, i); // no weight decay on a vector
        mb[i] = b1 * mb[i] + (1 - b1) * g;
        vb[i] = b2 * vb[i] + (1 - b2) * g * g;
        b[i] -= adamUpdate(placement, lr, mb[i], vb[i], c1, c2, eps);
      }
    }
    Map<String, INDArray> p = params();
    run(new AdamW(b1, b2, eps, placement, wd), p, 1, 3, lr);
    assertClose(w, b, p);
    // in float, the one-pass SIMD update (FusedOps' loops) runs instead of ND4J ops: the same, to float rounding
    Map<String, INDArray> single = params(DataType.FLOAT);
    run(new AdamW(b1, b2, eps, placement, wd), single, 1, 3, lr);
    assertClose(w, b, single, 1e-6);
    if (placement == EpsPlacement.HF) {
      Map<String, INDArray> torch = params();
      run(new AdamW(b1, b2, eps, EpsPlacement.TORCH, wd), torch, 1, 3, lr);
      assertTrue(Math.abs(torch.get("w").getDouble(0, 0) - w[0][0]) > 1e-5, "the placements differ at this ε");
    }
  }

  /**
   * AdaFactor by hand, factored (matrices) and plain (vectors), with ε in either place ({@link #adamUpdate}); for
   * hf an ε large enough that the placement shows.
   */
  @ParameterizedTest
  @CsvSource({"TORCH, 1e-8", "HF, 1e-3"})
  void adaFactorMatchesHandComputedFactoredUpdates(EpsPlacement placement, double eps) {
    double lr = 0.01, b1 = 0.9, b2 = 0.95, wd = 0.1;
    double[][] w = {W0[0].clone(), W0[1].clone()};
    double[] b = B0.clone();
    double[][] mw = new double[2][3];
    double[] rows = new double[2], cols = new double[3];
    double[] mb = new double[2], vb = new double[2];
    for (int s = 1; s <= 3; s++) {
      double c1 = 1 - Math.pow(b1, s), c2 = 1 - Math.pow(b2, s);
      double[] rowSum = new double[2], colSum = new double[3];
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          double g2 = gw(s, i, j) * gw(s, i, j);
          rowSum[i] += g2;
          colSum[j] += g2;
        }
      }
      double total = 0;
      for (int i = 0; i < 2; i++) {
        rows[i] = b2 * rows[i] + (1 - b2) * rowSum[i];
        total += rows[i];
      }
      for (int j = 0; j < 3; j++) {
        cols[j] = b2 * cols[j] + (1 - b2) * colSum[j];
      }
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          mw[i][j] = b1 * mw[i][j] + (1 - b1) * gw(s, i, j);
          w[i][j] *= 1 - lr * wd;
          w[i][j] -= adamUpdate(placement, lr, mw[i][j], rows[i] * cols[j] / total, c1, c2, eps);
        }
        double g = gb(s, i);
        mb[i] = b1 * mb[i] + (1 - b1) * g;
        vb[i] = b2 * vb[i] + (1 - b2) * g * g;
        b[i] -= adamUpdate(placement, lr, mb[i], vb[i], c1, c2, eps);
      }
    }
    Map<String, INDArray> p = params();
    run(new AdaFactor(b1, b2, eps, placement, wd), p, 1, 3, lr);
    assertClose(w, b, p);
  }

  /**
   * Adam's update from uncorrected moments m, v, each placement written its own way: torch lr·m̂/(√v̂ + ε) (PyTorch),
   * hf lr·(√(1−β2^t)/(1−β1^t))·m/(√v + ε) (Hugging Face).
   */
  private static double adamUpdate(EpsPlacement placement, double lr, double m, double v, double c1, double c2,
      double eps) {
    return placement == EpsPlacement.TORCH ? lr * (m / c1) / (Math.sqrt(v / c2) + eps)
        : lr * Math.sqrt(c2) / c1 * m / (Math.sqrt(v) + eps);
  }

  @Test
  void sgdMomentumMatchesHandComputedUpdates() {
    double lr = 0.1, mu = 0.9, wd = 0.01;
    double[][] w = {W0[0].clone(), W0[1].clone()};
    double[] b = B0.clone();
    double[][] bw = new double[2][3];
    double[] bb = new double[2];
    for (int s = 1; s <= 3; s++) {
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          bw[i][j] = mu * bw[i][j] + gw(s, i, j);
          w[i][j] = w[i][j] * (1 - lr * wd) - lr * bw[i][j];
        }
        bb[i] = mu * bb[i] + gb(s, i);
        b[i] -= lr * bb[i];
      }
    }
    Map<String, INDArray> p = params();
    run(new SgdMomentum(mu, wd), p, 1, 3, lr);
    assertClose(w, b, p);
  }

  @Test
  void savedStateResumesExactly() {
    for (Supplier<Optimizer> make : java.util.List.<Supplier<Optimizer>>of(
        () -> new AdamW(0.9, 0.99, 1e-8, 0.1), () -> new AdaFactor(0.9, 0.95, 1e-8, 0.1), () -> new SgdMomentum(0.9, 0.1))) {
      Map<String, INDArray> straight = params();
      Optimizer a = make.get();
      run(a, straight, 1, 4, 0.01);

      Map<String, INDArray> resumed = params();
      Optimizer first = make.get();
      run(first, resumed, 1, 2, 0.01);
      Map<String, INDArray> saved = new LinkedHashMap<>();
      first.state().forEach((k, v) -> saved.put(k, v.dup()));
      Optimizer second = make.get();
      second.loadState(saved);
      run(second, resumed, 3, 4, 0.01);
      assertEquals(straight.get("w"), resumed.get("w"), a.getClass().getSimpleName());
      assertEquals(straight.get("gain"), resumed.get("gain"), a.getClass().getSimpleName());
    }
  }

  @Test
  void scheduleWarmsUpThenDecays() {
    LrSchedule linear = new LrSchedule(1e-3, 10, 110, LrSchedule.Decay.LINEAR, 0);
    assertEquals(1e-4, linear.at(0), 1e-15);
    assertEquals(1e-3, linear.at(9), 1e-15);
    assertEquals(1e-3, linear.at(10), 1e-15);
    assertEquals(5e-4, linear.at(60), 1e-15);
    assertEquals(0, linear.at(110), 1e-15);
    LrSchedule cosine = new LrSchedule(1e-3, 10, 110, LrSchedule.Decay.COSINE, 1e-5);
    assertEquals(1e-5 + 0.5 * (1e-3 - 1e-5), cosine.at(60), 1e-15);
    assertEquals(1e-5, cosine.at(500), 1e-15);
  }

  @Test
  void clippingScalesToTheGlobalNorm() {
    Map<String, INDArray> g = new LinkedHashMap<>();
    g.put("a", Nd4j.createFromArray(3.0, 0.0));
    g.put("b", Nd4j.createFromArray(new double[][] {{0.0, 4.0}}));
    assertEquals(5.0, GradientClipping.clip(g, 1.0), 1e-12);
    assertEquals(1.0, Math.hypot(g.get("a").getDouble(0), g.get("b").getDouble(0, 1)), 1e-6);
    assertEquals(1.0, GradientClipping.clip(g, 2.0), 1e-6, "below the limit: unchanged");
  }

  @Test
  void clippingFloatGradientsGivesTheSameNorm() { // float: FusedOps' SIMD loops
    Map<String, INDArray> g = new LinkedHashMap<>();
    g.put("a", Nd4j.createFromArray(3f, 0f));
    g.put("b", Nd4j.createFromArray(new float[][] {{0f, 4f}}));
    assertEquals(5.0, GradientClipping.clip(g, 1.0), 1e-6);
    assertEquals(0.6, g.get("a").getDouble(0), 1e-6);
    assertEquals(0.8, g.get("b").getDouble(0, 1), 1e-6);
  }
}
