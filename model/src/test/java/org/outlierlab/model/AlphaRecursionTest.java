package org.outlierlab.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.outlierlab.model.ModelConfig.Activation;
import org.outlierlab.model.ModelConfig.Alpha;
import org.outlierlab.model.ModelConfig.Block;
import org.outlierlab.model.ModelConfig.Positions;

/** OP's α from the signal-propagation recursion: closed forms, the GeLU constant, and against measured α. */
class AlphaRecursionTest {
  private static ModelConfig op(int d, int layers, Positions positions, Alpha alpha) {
    return ModelConfig.preset(Block.OP, 1000, d, layers, 4, 64).activation(Activation.GELU).positions(positions)
        .alpha(alpha).build();
  }

  /**
   * ×50 embeddings at σ = 0.02 give v₀ = 1 (learned positions add σ²); layer 0's attention adds β²(dσ²)²·v₀ before
   * its MLP, whose α is 1/√(dσ²·v).
   */
  @Test
  void theFirstLayerHasTheClosedForm() {
    double fanIn = 64 * 0.0004;
    for (Positions positions : new Positions[] {Positions.ROPE, Positions.LEARNED}) {
      double v0 = positions == Positions.LEARNED ? 1 + 0.0004 : 1;
      double v = v0 * (1 + 0.2 * 0.2 * fanIn * fanIn);
      assertEquals(1 / Math.sqrt(fanIn * v), AlphaRecursion.alphas(op(64, 2, positions, Alpha.RECURSION))[0], 1e-12);
    }
  }

  /** Norms reset the second moment: after an input norm, or Post-LN's, every α is 1/√(dσ²). */
  @Test
  void normsResetTheSecondMoment() {
    for (Block block : new Block[] {Block.PRE_LN, Block.POST_LN}) {
      ModelConfig c = ModelConfig.preset(block, 1000, 64, 3, 4, 64).activation(Activation.GELU)
          .alpha(Alpha.RECURSION).build();
      for (double alpha : AlphaRecursion.alphas(c)) {
        assertEquals(1 / Math.sqrt(64 * 0.0004), alpha, 1e-12, block.name());
      }
    }
  }

  /** v grows by β²(dσ²)² from attention and β²·4dσ²·E[φ²] from each MLP; α_l = 1/√(dσ²·v before MLP l). */
  @Test
  void laterLayersFollowTheRecursion() {
    ModelConfig c = op(64, 3, Positions.ROPE, Alpha.RECURSION);
    double fanIn = 64 * 0.0004;
    double attn = 0.04 * fanIn * fanIn;
    double mlp = 0.04 * 256 * 0.0004 * AlphaRecursion.activationSecondMoment(Activation.GELU);
    double v = 1;
    double[] alphas = AlphaRecursion.alphas(c);
    for (int l = 0; l < 3; l++) {
      v += attn * v;
      assertEquals(1 / Math.sqrt(fanIn * v), alphas[l], 1e-12, "layer " + l);
      v += mlp;
    }
  }

  /** ReLU's ½, and ND4J's gelu (x·sigmoid(1.702x)) against a trapezoid rule written here on that formula. */
  @Test
  void theActivationConstants() {
    assertEquals(0.5, AlphaRecursion.activationSecondMoment(Activation.RELU), 0);
    int n = 400_000;
    double h = 24.0 / n;
    double sum = 0;
    for (int i = 0; i <= n; i++) {
      double x = -12 + i * h;
      double gelu = x / (1 + Math.exp(-1.702 * x));
      sum += (i == 0 || i == n ? 0.5 : 1) * gelu * gelu * Math.exp(-x * x / 2);
    }
    assertEquals(sum * h / Math.sqrt(2 * Math.PI), AlphaRecursion.activationSecondMoment(Activation.GELU), 1e-8);
  }

  /**
   * On a freshly initialised OP model (d = 256) with random tokens, the predicted α agrees with the α measured on a
   * batch to within 1% in every layer (they differ by the weights' and tokens' sampling, and attention's mixing).
   */
  @Test
  void theRecursionPredictsTheMeasuredAlpha() {
    for (Positions positions : new Positions[] {Positions.ROPE, Positions.LEARNED}) {
      ModelConfig measuredConfig = op(256, 4, positions, Alpha.MEASURED);
      TransformerLM model = new TransformerLM(measuredConfig, DataType.DOUBLE, 11);
      SplittableRandom r = new SplittableRandom(3);
      int[][] ids = new int[8][64];
      for (int[] row : ids) {
        for (int t = 0; t < row.length; t++) {
          row[t] = r.nextInt(1000);
        }
      }
      model.initAlpha(ids);
      double[] predicted = AlphaRecursion.alphas(measuredConfig);
      for (int l = 0; l < 4; l++) {
        double measured = model.parameters().get("h" + l + "_alpha").getDouble(0);
        assertEquals(measured, predicted[l], 0.01 * measured, positions + " layer " + l);
      }
    }
  }
}
