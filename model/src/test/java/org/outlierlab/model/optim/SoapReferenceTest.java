package org.outlierlab.model.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SOAP against an independent implementation: {@code src/test/python/soap_reference.py}, written in numpy from the
 * paper's description, fed the same gradients, in double precision. The parameters cover every case of the rule:
 * both axes rotated (square, so the first gradient's factors have no null space and the eigenbasis is unique up to
 * signs, which SOAP's update does not depend on), one axis rotated and the other too long, a matrix with both axes
 * too long, a vector and a scalar; frequency 3 over 10 calls refreshes the bases three times.
 *
 * <p>Needs python3 with numpy (Debian python3-numpy); skipped without it unless OFLAB_REQUIRE_REFERENCE_TOOLS=1.
 */
class SoapReferenceTest {
  private static final File SCRIPT = new File("src/test/python/soap_reference.py");
  private static final int CALLS = 10;
  private static final int FREQUENCY = 3;
  private static final int MAX_PRECOND_DIM = 8;

  /** name → shape ({} for a scalar). */
  private static final Map<String, int[]> SHAPES = new LinkedHashMap<>();

  static {
    SHAPES.put("square", new int[] {8, 8});
    SHAPES.put("tall", new int[] {12, 5});
    SHAPES.put("wide", new int[] {5, 12});
    SHAPES.put("too_long", new int[] {10, 9});
    SHAPES.put("vector", new int[] {6});
    SHAPES.put("scalar", new int[] {});
  }

  /** Both placements of ε; for hf one large enough that the placement shows (the reference's own form is hf). */
  @ParameterizedTest
  @CsvSource({"TORCH, 1e-8", "HF, 1e-3"})
  void soapMatchesTheNumpyReference(EpsPlacement placement, double eps) throws Exception {
    requireNumpy();
    Map<String, INDArray> params = new LinkedHashMap<>();
    SHAPES.forEach((name, shape) -> params.put(name, gaussian(name.hashCode(), shape).muli(0.5)));
    Map<String, INDArray> start = new LinkedHashMap<>();
    params.forEach((name, p) -> start.put(name, p.dup()));

    Soap soap = new Soap(SoapTest.B1, SoapTest.B2, -1, eps, placement, SoapTest.WD, FREQUENCY, MAX_PRECOND_DIM);
    StringBuilder grads = new StringBuilder("[");
    for (int call = 1; call <= CALLS; call++) {
      Map<String, INDArray> g = new LinkedHashMap<>();
      for (Map.Entry<String, int[]> e : SHAPES.entrySet()) {
        g.put(e.getKey(), gaussian(1000L * call + e.getKey().hashCode(), e.getValue()));
      }
      grads.append(call > 1 ? ", " : "").append(json(g));
      soap.step(params, g, SoapTest.LR);
    }
    String input = "{\"hyper\": {\"lr\": " + SoapTest.LR + ", \"beta1\": " + SoapTest.B1 + ", \"beta2\": " + SoapTest.B2
        + ", \"shampoo_beta\": -1, \"eps\": " + eps + ", \"weight_decay\": " + SoapTest.WD
        + ", \"frequency\": " + FREQUENCY + ", \"max_precond_dim\": " + MAX_PRECOND_DIM
        + ", \"eps_on_corrected_v\": " + (placement == EpsPlacement.TORCH) + ", \"decay_before_update\": true}, "
        + "\"params\": " + json(start)
        + ", \"grads\": " + grads + "]}";

    Map<String, double[]> reference = runReference(input);
    assertEquals(SHAPES.keySet(), reference.keySet());
    for (String name : SHAPES.keySet()) {
      double[] ours = params.get(name).reshape(-1).toDoubleVector();
      double[] theirs = reference.get(name);
      double moved = 0;
      for (int i = 0; i < ours.length; i++) {
        assertEquals(theirs[i], ours[i], 1e-9 * Math.max(1, Math.abs(theirs[i])), name + "[" + i + "]");
        moved = Math.max(moved, Math.abs(ours[i] - start.get(name).reshape(-1).getDouble(i)));
      }
      assertEquals(true, moved > 0.1, name + " should have moved; max change " + moved);
    }
  }

  private static void requireNumpy() throws InterruptedException {
    boolean found;
    try {
      found = new ProcessBuilder("python3", "-c", "import numpy").start().waitFor() == 0;
    } catch (IOException e) {
      found = false;
    }
    String message = "python3 with numpy is not installed (apt-get install python3-numpy)";
    if (!found && "1".equals(System.getenv("OFLAB_REQUIRE_REFERENCE_TOOLS"))) {
      throw new IllegalStateException(message);
    }
    assumeTrue(found, message);
  }

  private static Map<String, double[]> runReference(String input) throws IOException, InterruptedException {
    File in = File.createTempFile("soap-reference", ".json");
    File err = File.createTempFile("soap-reference", ".err");
    try {
      Files.writeString(in.toPath(), input);
      Process p = new ProcessBuilder("python3", SCRIPT.getPath()).redirectInput(in).redirectError(err).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(SCRIPT + " failed:\n" + Files.readString(err.toPath()));
      }
      Map<String, double[]> result = new LinkedHashMap<>();
      for (String line : out.strip().split("\n")) {
        List<String> words = Arrays.asList(line.trim().split(" "));
        result.put(words.get(0), words.subList(1, words.size()).stream().mapToDouble(Double::parseDouble).toArray());
      }
      return result;
    } finally {
      in.delete();
      err.delete();
    }
  }

  private static INDArray gaussian(long seed, int[] shape) {
    java.util.Random r = new java.util.Random(seed);
    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = r.nextGaussian();
    }
    return shape.length == 0 ? Nd4j.scalar(values[0]) : Nd4j.createFromArray(values).reshape(shape).dup('c');
  }

  /** {"name": nested lists, ...}, doubles at full precision (Double.toString round-trips). */
  private static String json(Map<String, INDArray> arrays) {
    StringBuilder sb = new StringBuilder("{");
    arrays.forEach((name, a) -> {
      sb.append(sb.length() > 1 ? ", " : "").append('"').append(name).append("\": ");
      if (a.rank() == 0) {
        sb.append(a.getDouble(0));
      } else if (a.rank() == 1) {
        sb.append(Arrays.toString(a.toDoubleVector()));
      } else {
        sb.append(Arrays.deepToString(a.toDoubleMatrix()));
      }
    });
    return sb.append('}').toString();
  }
}
