package org.outlierlab.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.model.ModelConfig.Activation;
import org.outlierlab.model.ModelConfig.Block;
import org.outlierlab.model.ModelConfig.EntropyRegulation;
import org.outlierlab.model.ModelConfig.Positions;
import org.outlierlab.model.optim.AdamW;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.train.TrainStep;

/** The model against oracles: finite differences, causality, and the structure the paper prescribes. */
class TransformerLMTest {
  static final int V = 11;
  static final int D = 8;
  static final int T = 5;

  static ModelConfig tiny(Block block) {
    return ModelConfig.of(block, V, D, 2, 2, T);
  }

  /** Table 3's "Post-QK+Pre-V" row: QK-Norm and a norm on V alone. */
  static ModelConfig qkNormAndPreVOnly() {
    return tiny(Block.PRE_LN).toBuilder().normBeforeQk(false).normBeforeMlp(false)
        .entropyRegulation(EntropyRegulation.QK_NORM).build();
  }

  static Stream<Arguments> variants() {
    return Stream.of(
        Arguments.of("pre-ln", tiny(Block.PRE_LN)),
        Arguments.of("post-ln", tiny(Block.POST_LN)),
        Arguments.of("pre-rms", tiny(Block.PRE_RMS)),
        Arguments.of("pre-srms", tiny(Block.PRE_SRMS)),
        Arguments.of("op", tiny(Block.OP)),
        Arguments.of("op-tanh-trainable-beta-gelu-rope-tied-alpha",
            tiny(Block.OP).toBuilder().entropyRegulation(EntropyRegulation.TANH).beta(0.3).betaTrainable(true)
                .activation(Activation.GELU).positions(Positions.ROPE).tiedEmbeddings(true)
                .alpha(ModelConfig.Alpha.MEASURED).build()),
        Arguments.of("pre-ln-downweighted-final-norm",
            tiny(Block.PRE_LN).toBuilder().beta(0.2).finalNorm(true).build()),
        Arguments.of("table3-qk-norm-and-pre-v-only", qkNormAndPreVOnly()));
  }

  static int[][] tokens(long seed, int batch) {
    Random r = new Random(seed);
    int[][] t = new int[batch][T];
    for (int[] row : t) {
      for (int i = 0; i < T; i++) {
        row[i] = r.nextInt(4); // few distinct ids: repeated ids exercise the scatter-added embedding gradient
      }
    }
    return t;
  }

  /**
   * A batch split over three threads (7 rows: parts of 2, 2 and 3 on replicas sharing the parameters) trains as one
   * thread does, up to the order of the sums: losses, gradient norms, captured activations, evaluation losses and
   * the parameters after four AdamW steps, in double precision. Alpha is set after the replicas exist, so they must
   * see the primary's arrays, and shrinking back to one thread keeps working.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void aBatchSplitOverThreadsTrainsAsOneThreadDoes(String name, ModelConfig config) {
    TransformerLM one = new TransformerLM(config, DataType.DOUBLE, 9);
    TransformerLM three = new TransformerLM(config, DataType.DOUBLE, 9);
    three.useThreads(3);
    assertEquals(3, three.threads());
    Set<String> capture = Set.of("resid_attn_in_0", "attn_probs_1", "unembed_in");
    List<TrainStep.Result> expected = train(one, capture);
    List<TrainStep.Result> actual = train(three, capture);
    for (int s = 0; s < expected.size(); s++) {
      assertEquals(expected.get(s).loss(), actual.get(s).loss(), 1e-12 * expected.get(s).loss(), name + " loss " + s);
      assertEquals(expected.get(s).gradNorm(), actual.get(s).gradNorm(), 1e-10 * expected.get(s).gradNorm(), name);
    }
    for (String site : capture) {
      INDArray e = expected.get(0).activations().get(site);
      assertArrayEquals(e.shape(), actual.get(0).activations().get(site).shape(), site);
      assertTrue(e.equalsWithEps(actual.get(0).activations().get(site), 1e-12), name + " " + site);
    }
    one.parameters().forEach((k, v) -> assertTrue(v.equalsWithEps(three.parameters().get(k), 1e-10), name + " " + k));
    assertEquals(one.loss(tokens(5, 7), tokens(6, 7)), three.loss(tokens(5, 7), tokens(6, 7)), 1e-12, name);
    three.useThreads(1);
    assertEquals(1, three.threads());
    assertEquals(one.loss(tokens(5, 7), tokens(6, 7)), three.loss(tokens(5, 7), tokens(6, 7)), 1e-12, name);
  }

  /** Four AdamW steps on 7-row batches, capturing at the first; the results keep copies of the activations. */
  private static List<TrainStep.Result> train(TransformerLM model, Set<String> capture) {
    if (model.config().hasAlpha()) {
      model.initAlpha(tokens(3, 7));
    }
    TrainStep step = new TrainStep(model, new AdamW(0.9, 0.99, 1e-8, 0.1),
        new LrSchedule(1e-2, 1, 10, LrSchedule.Decay.CONSTANT, 0), 0.5);
    List<TrainStep.Result> results = new java.util.ArrayList<>();
    for (int s = 0; s < 4; s++) {
      TrainStep.Result r = step.run(s, tokens(10 + s, 7), tokens(20 + s, 7), s == 0 ? capture : Set.of());
      Map<String, INDArray> copies = new java.util.HashMap<>();
      r.activations().forEach((k, v) -> copies.put(k, v.dup()));
      results.add(new TrainStep.Result(s, r.loss(), r.lr(), r.gradNorm(), copies));
    }
    return results;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void gradientsMatchFiniteDifferences(String name, ModelConfig config) {
    TransformerLM model = new TransformerLM(config, DataType.DOUBLE, 42);
    // Larger weights than N(0, 0.02) so that every path carries a signal a finite difference can see.
    for (INDArray p : model.parameters().values()) {
      if (p.rank() == 2) {
        p.muli(20);
      }
    }
    int[][] in = tokens(1, 2);
    int[][] out = tokens(2, 2);
    Map<String, INDArray> grads = model.forwardBackward(in, out, Set.of()).gradients();
    Set<String> trainable = new java.util.HashSet<>(model.parameters().keySet());
    trainable.removeIf(n -> n.endsWith("_alpha")); // frozen
    assertEquals(trainable, grads.keySet());
    Random r = new Random(3);
    double eps = 1e-6;
    for (Map.Entry<String, INDArray> e : model.parameters().entrySet()) {
      if (!trainable.contains(e.getKey())) {
        continue;
      }
      INDArray p = e.getValue();
      INDArray g = grads.get(e.getKey());
      assertArrayEquals(p.shape(), g.shape(), e.getKey());
      for (int k = 0; k < Math.min(6, p.length()); k++) {
        long i = k == 0 && e.getKey().equals(TransformerLM.EMBEDDING) ? in[0][0] * D : r.nextInt((int) p.length());
        double original = p.getDouble(i);
        p.putScalar(i, original + eps);
        double plus = model.loss(in, out);
        p.putScalar(i, original - eps);
        double minus = model.loss(in, out);
        p.putScalar(i, original);
        double numeric = (plus - minus) / (2 * eps);
        double analytic = g.getDouble(i);
        // Relative 1e-4, plus 1e-8 absolute for the finite difference's own rounding (loss ~1e-16 / eps).
        assertTrue(Math.abs(numeric - analytic) <= 1e-4 * (Math.abs(numeric) + Math.abs(analytic)) + 1e-8,
            () -> name + " " + e.getKey() + "[" + i + "]: numeric " + numeric + " vs analytic " + analytic);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void aFutureTokenNeverChangesAnEarlierLogit(String name, ModelConfig config) {
    TransformerLM model = new TransformerLM(config, DataType.DOUBLE, 7);
    int[][] base = tokens(5, 1);
    INDArray before = model.logits(base);
    for (int t = 1; t < T; t++) {
      int[][] changed = {base[0].clone()};
      changed[0][t] = (changed[0][t] + 1) % V;
      INDArray after = model.logits(changed);
      for (int pos = 0; pos < T; pos++) {
        INDArray a = before.getRow(pos);
        INDArray b = after.getRow(pos);
        if (pos < t) {
          assertEquals(a, b, name + ": token " + t + " changed the logits at " + pos);
        } else if (pos == t) {
          assertNotEquals(a, b, name + ": token " + t + " must change its own logits");
        }
      }
    }
  }

  @Test
  void theOpBlockHasNoNormLayersButQkNormGainsAndScaledBranches() {
    TransformerLM op = new TransformerLM(tiny(Block.OP), DataType.DOUBLE, 1);
    Set<String> names = op.parameters().keySet();
    assertTrue(names.stream().noneMatch(n -> n.contains("ln_")), "OP has no norm layer: " + names);
    assertTrue(names.contains("h0_q_norm_gain") && names.contains("h1_k_norm_gain"), names.toString());
    assertEquals(50.0, op.config().embeddingScale());
    assertEquals(0.2, op.config().beta());

    TransformerLM preLn = new TransformerLM(tiny(Block.PRE_LN), DataType.DOUBLE, 1);
    Set<String> pre = preLn.parameters().keySet();
    assertTrue(pre.containsAll(Set.of("h0_ln_attn_gain", "h0_ln_attn_bias", "h0_ln_mlp_gain")), pre.toString());
    assertFalse(pre.stream().anyMatch(n -> n.contains("q_norm")), pre.toString());
    assertEquals(50.0, preLn.config().embeddingScale(), "the paper scales the embeddings of every block");
  }

  @Test
  void betaScalesTheResidualBranchesWhereThePaperSays() {
    // With beta -> 0 the OP block is the identity on the residual stream: every layer sees the embedding.
    ModelConfig config = tiny(Block.OP).toBuilder().beta(1e-12).build();
    TransformerLM model = new TransformerLM(config, DataType.DOUBLE, 3);
    int[][] in = tokens(9, 2);
    Map<String, INDArray> acts = model.forwardBackward(in, in, Set.of("resid_attn_in_0", "resid_mlp_in_1", "unembed_in"))
        .activations();
    INDArray x0 = acts.get("resid_attn_in_0");
    assertTrue(x0.equalsWithEps(acts.get("resid_mlp_in_1"), 1e-9));
    assertTrue(x0.equalsWithEps(acts.get("unembed_in"), 1e-9));
    // And the embedding is scaled by 50: its mean square is about (50 * 0.02)^2 = 1.
    TransformerLM wide = new TransformerLM(ModelConfig.of(Block.OP, 97, 64, 1, 4, 16), DataType.DOUBLE, 3);
    int[][] ids = new int[4][16];
    for (int i = 0; i < 4; i++) {
      for (int t = 0; t < 16; t++) {
        ids[i][t] = (i * 16 + t) % 97;
      }
    }
    INDArray e = wide.forwardBackward(ids, ids, Set.of("resid_attn_in_0")).activations().get("resid_attn_in_0");
    double meanSquare = e.mul(e).meanNumber().doubleValue();
    assertEquals(1.0, meanSquare, 0.15);
  }

  @Test
  void alphaMakesEveryMlpPreActivationUnitRmsAtInit() {
    ModelConfig config = ModelConfig.preset(Block.OP, 97, 64, 3, 4, 16).activation(Activation.GELU)
        .positions(Positions.ROPE).tiedEmbeddings(true).alpha(ModelConfig.Alpha.MEASURED).build();
    TransformerLM model = new TransformerLM(config, DataType.DOUBLE, 4);
    int[][] ids = new int[8][16];
    for (int i = 0; i < 8; i++) {
      for (int t = 0; t < 16; t++) {
        ids[i][t] = (7 * i + 3 * t) % 97;
      }
    }
    model.initAlpha(ids);
    Map<String, INDArray> acts = model.forwardBackward(ids, ids, Set.of("mlp_preact_0", "mlp_preact_1", "mlp_preact_2"))
        .activations();
    for (INDArray pre : acts.values()) {
      assertEquals(1.0, Math.sqrt(pre.mul(pre).meanNumber().doubleValue()), 1e-9);
    }
    double alpha0 = model.parameters().get("h0_alpha").getDouble(0);
    assertTrue(alpha0 > 1, "W1 h has RMS about sqrt(d)*0.02 < 1 at init, so alpha > 1: " + alpha0);
  }

  @Test
  void capturedActivationsHaveTheResidualShape() {
    TransformerLM model = new TransformerLM(tiny(Block.PRE_LN), DataType.FLOAT, 1);
    int[][] in = tokens(4, 3);
    TransformerLM.Pass pass = model.forwardBackward(in, in, Set.of("resid_attn_in_1", "unembed_in", "attn_probs_0"));
    assertArrayEquals(new long[] {3, T, D}, pass.activations().get("resid_attn_in_1").shape());
    assertArrayEquals(new long[] {3, T, D}, pass.activations().get("unembed_in").shape());
    INDArray probs = pass.activations().get("attn_probs_0");
    assertArrayEquals(new long[] {3, 2, T, T}, probs.shape());
    assertEquals(3 * 2 * T, probs.sumNumber().doubleValue(), 1e-4, "each query's attention sums to 1");
    assertTrue(Math.abs(pass.loss() - Math.log(V)) < 0.2, "loss at init is about ln(V): " + pass.loss());
  }

  @Test
  void preNormBlocksExposeTheirNormOutputsAndNormlessBlocksDoNot() {
    TransformerLM preLn = new TransformerLM(tiny(Block.PRE_LN), DataType.DOUBLE, 1);
    assertTrue(preLn.sites().containsAll(List.of("norm_attn_out_0", "norm_mlp_out_0", "norm_attn_out_1",
        "norm_mlp_out_1")), preLn.sites().toString());
    TransformerLM op = new TransformerLM(tiny(Block.OP), DataType.DOUBLE, 1);
    assertTrue(op.sites().stream().noneMatch(s -> s.startsWith("norm_")), op.sites().toString());
    TransformerLM vOnly = new TransformerLM(qkNormAndPreVOnly(), DataType.DOUBLE, 1);
    assertTrue(vOnly.sites().contains("norm_attn_out_1") && !vOnly.sites().contains("norm_mlp_out_1"),
        "a norm on V alone is the attention's norm site: " + vOnly.sites());

    // At init (gain 1, bias 0) the site holds LayerNorm of the block's input, row by row.
    int[][] in = tokens(5, 2);
    Map<String, INDArray> acts = preLn.forwardBackward(in, in, Set.of("resid_attn_in_1", "norm_attn_out_1",
        "resid_mlp_in_1", "norm_mlp_out_1")).activations();
    for (String[] pair : new String[][] {{"resid_attn_in_1", "norm_attn_out_1"}, {"resid_mlp_in_1", "norm_mlp_out_1"}}) {
      double[][] x = acts.get(pair[0]).reshape(-1, D).toDoubleMatrix();
      double[][] y = acts.get(pair[1]).reshape(-1, D).toDoubleMatrix();
      for (int r = 0; r < x.length; r++) {
        double mean = java.util.Arrays.stream(x[r]).average().orElseThrow();
        double var = java.util.Arrays.stream(x[r]).map(v -> (v - mean) * (v - mean)).average().orElseThrow();
        for (int j = 0; j < D; j++) {
          assertEquals((x[r][j] - mean) / Math.sqrt(var + 1e-5), y[r][j], 1e-12, pair[1] + " row " + r);
        }
      }
    }
  }
}
