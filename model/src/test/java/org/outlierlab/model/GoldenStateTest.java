package org.outlierlab.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.optim.AdamW;
import org.outlierlab.model.optim.EpsPlacement;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.train.TrainData;
import org.outlierlab.model.train.TrainStep;

/**
 * The golden state (llm.c's habit): the model against bench/torch_model.py, the transformer written again in PyTorch
 * from docs/SCIENCE.md (the paper's setup). bench/golden_state.py wrote, for a tiny Pre-LN and a tiny OP model in float64, the initial weights,
 * one batch and what PyTorch computes from them ({@code src/test/resources/golden/<block>.txt.gz}; the format and the
 * training settings are described in the script). Here the weights go into the model that {@link ModelConfig#of}'s
 * preset builds, and the logits, the loss, every gradient, the kurtosis of the residual stream entering each block
 * and five training steps (gradient norm before clipping, loss after each AdamW update) must agree to {@value
 * #TOLERANCE}. Any change to a block's recipe (the preset, the graph, the embedding, the optimiser's rule) fails it;
 * a deliberate one regenerates the dump with the script.
 */
class GoldenStateTest {
  /** Of each compared tensor's worst element, relative to its scale (see {@link Comparison}). */
  private static final double TOLERANCE = 1e-10;

  private record Tensor(long[] shape, double[] values) {}

  @ParameterizedTest
  @ValueSource(strings = {"pre-ln", "op"})
  void theModelReproducesPyTorchsGoldenState(String block) throws IOException {
    Map<String, Tensor> golden = read(block);
    int seq = integer(golden, "seq");
    ModelConfig config = ModelConfig.of(ModelConfig.Block.valueOf(block.toUpperCase(Locale.ROOT).replace('-', '_')),
        integer(golden, "vocab"), integer(golden, "d"), integer(golden, "layers"), integer(golden, "heads"), seq);
    TransformerLM model = new TransformerLM(config, DataType.DOUBLE, 0);
    Map<String, INDArray> weights = new LinkedHashMap<>();
    withPrefix(golden, "param/").forEach((name, t) -> weights.put(name, Nd4j.create(t.values(), t.shape(), 'c')));
    model.loadParameters(weights);
    int[][] rows = tokens(tensor(golden, "tokens"));
    int[][] inputs = TrainData.slice(rows, 0, seq);
    int[][] targets = TrainData.slice(rows, 1, seq);
    Comparison compare = new Comparison(golden);

    compare.check("logits", model.logits(inputs));
    Set<String> sites = new LinkedHashSet<>();
    for (int l = 0; l < config.nLayers(); l++) {
      sites.add("resid_attn_in_" + l);
    }
    TransformerLM.Pass pass = model.forwardBackward(inputs, targets, sites);
    compare.check("loss", pass.loss());
    assertEquals(withPrefix(golden, "grad/").keySet(), pass.gradients().keySet(), "gradients");
    pass.gradients().forEach((name, g) -> compare.check("grad/" + name, g));
    compare.check("kurtosis", sites.stream().mapToDouble(s -> kurtosis(pass.activations().get(s))).toArray());

    double lr = value(golden, "lr");
    int steps = integer(golden, "steps");
    TrainStep step = new TrainStep(model, new AdamW(value(golden, "beta1"), value(golden, "beta2"),
        value(golden, "eps"), EpsPlacement.TORCH, value(golden, "weight_decay")),
        new LrSchedule(lr, 0, steps, LrSchedule.Decay.CONSTANT, lr), value(golden, "clip"));
    double[] norms = new double[steps];
    double[] losses = new double[steps];
    for (int k = 0; k < steps; k++) {
      norms[k] = step.run(k, inputs, targets, Set.of()).gradNorm();
      losses[k] = model.loss(inputs, targets);
    }
    compare.check("grad_norms", norms);
    compare.check("step_losses", losses);
    compare.assertAllWithinTolerance(block);
  }

  /**
   * Eq 1 (SCIENCE.md §1.2) over the token rows of x [B, T, d]: with s_j = Σ_t x_tj², mean(m²)/mean(m)² = d·Σ s_j² / (Σ s_j)² (the
   * normalisation by the mean square cancels). Written here in double because LayerStats (metrics) takes float rows;
   * what this checks is the model's residual stream at the site, with the script's Eq 1 as the oracle.
   */
  private static double kurtosis(INDArray x) {
    int d = (int) x.size(x.rank() - 1);
    double[] values = x.dup('c').data().asDouble();
    double[] s = new double[d];
    for (int i = 0; i < values.length; i++) {
      s[i % d] += values[i] * values[i];
    }
    double sum = Arrays.stream(s).sum();
    return d * Arrays.stream(s).map(v -> v * v).sum() / (sum * sum);
  }

  /**
   * Each check's worst element against the reference, relative to the tensor's largest reference entry; a gradient's
   * scale is at least {@value #GRADIENT_FLOOR} of the largest entry of every reference gradient, so that one that is
   * zero up to rounding (Pre-LN's key bias: it shifts all of a query's scores alike, which the softmax ignores; about
   * 1e-22 on both sides) is compared at the gradients' scale, not its own noise's. The smallest other gradient here is
   * 1e-6 of the largest, which the floor leaves alone. The failures, all of them, at the end.
   */
  private static final class Comparison {
    private static final double GRADIENT_FLOOR = 1e-8;
    private final Map<String, Tensor> golden;
    private final double gradientScale;
    private final List<String> failures = new ArrayList<>();
    private String worst = "nothing";
    private double worstError = -1;
    private int checked;

    Comparison(Map<String, Tensor> golden) {
      this.golden = golden;
      this.gradientScale = GRADIENT_FLOOR * withPrefix(golden, "grad/").values().stream()
          .flatMapToDouble(t -> Arrays.stream(t.values())).map(Math::abs).max().orElse(0);
    }

    void check(String name, INDArray actual) {
      Tensor expected = tensor(golden, name);
      assertEquals(Arrays.toString(expected.shape()), Arrays.toString(actual.shape()), name + "'s shape");
      check(name, actual.dup('c').data().asDouble());
    }

    void check(String name, double... actual) {
      Tensor expected = tensor(golden, name);
      double[] e = expected.values();
      assertEquals(e.length, actual.length, name + "'s size");
      double largest = Arrays.stream(e).map(Math::abs).max().orElse(0);
      double scale = name.startsWith("grad/") ? Math.max(largest, gradientScale) : largest;
      int at = 0;
      for (int i = 1; i < e.length; i++) {
        at = Math.abs(actual[i] - e[i]) > Math.abs(actual[at] - e[at]) ? i : at;
      }
      double error = Math.abs(actual[at] - e[at]) / scale;
      String where = String.format(Locale.ROOT, "%s%s: java %.17g, torch %.17g, difference %.3g of the scale %.3g",
          name, index(expected.shape(), at), actual[at], e[at], error, scale);
      checked++;
      if (!(error <= TOLERANCE)) {
        failures.add(where);
      }
      if (error > worstError) {
        worstError = error;
        worst = where;
      }
    }

    void assertAllWithinTolerance(String block) {
      assertTrue(failures.isEmpty(), block + ": " + failures.size() + " of " + checked + " tensors differ from "
          + "PyTorch's golden state by more than " + TOLERANCE + " (a changed recipe? see bench/golden_state.py):\n  "
          + String.join("\n  ", failures));
      System.out.println("golden state, " + block + ", the worst of " + checked + " tensors: " + worst);
    }
  }

  /** The element's multi-index, e.g. [3, 5] (empty for a scalar). */
  private static String index(long[] shape, int flat) {
    long[] at = new long[shape.length];
    for (int k = shape.length - 1; k >= 0; k--) {
      at[k] = flat % shape[k];
      flat /= (int) shape[k];
    }
    return shape.length == 0 ? "" : Arrays.toString(at);
  }

  /** The dump: one line per tensor, {@code name [shape] values...}. */
  private static Map<String, Tensor> read(String block) throws IOException {
    String resource = "/golden/" + block + ".txt.gz";
    InputStream in = GoldenStateTest.class.getResourceAsStream(resource);
    assertNotNull(in, resource + " is missing: run bench/golden_state.py");
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    var text = new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8);
    try (BufferedReader r = new BufferedReader(text)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        String[] words = line.split(" ");
        String dims = words[1].substring(1, words[1].length() - 1);
        long[] shape = dims.isEmpty() ? new long[0]
            : Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray();
        double[] values = Arrays.stream(words, 2, words.length).mapToDouble(Double::parseDouble).toArray();
        tensors.put(words[0], new Tensor(shape, values));
      }
    }
    return tensors;
  }

  private static Tensor tensor(Map<String, Tensor> golden, String name) {
    Tensor t = golden.get(name);
    assertNotNull(t, "the golden state has no " + name);
    return t;
  }

  private static double value(Map<String, Tensor> golden, String name) {
    return tensor(golden, name).values()[0];
  }

  private static int integer(Map<String, Tensor> golden, String name) {
    return (int) value(golden, name);
  }

  private static Map<String, Tensor> withPrefix(Map<String, Tensor> golden, String prefix) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    golden.forEach((name, t) -> {
      if (name.startsWith(prefix)) {
        out.put(name.substring(prefix.length()), t);
      }
    });
    return out;
  }

  private static int[][] tokens(Tensor t) {
    int columns = (int) t.shape()[1];
    int[][] rows = new int[(int) t.shape()[0]][columns];
    for (int i = 0; i < t.values().length; i++) {
      rows[i / columns][i % columns] = (int) t.values()[i];
    }
    return rows;
  }
}
