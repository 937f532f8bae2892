package org.outlierlab.model.optim;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.DoublePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One matrix parameter's Shampoo preconditioner in the form SOAP keeps it (SCIENCE.md §3.1), shared by {@link Soap} and
 * {@link RotatedAdaFactor}. Per axis: the factor L = EMA(G Gᵀ) (rows) or R = EMA(Gᵀ G) (columns), and an
 * orthonormal basis Q whose columns approximate the factor's eigenvectors, by descending eigenvalue. An axis longer
 * than maxPrecondDim has neither and is not rotated (identity on that side). The bases start from a full
 * eigendecomposition and are then refreshed by one power iteration and a QR decomposition.
 *
 * <p>State keys, per parameter name: {@code L/} and {@code QL/} (rows), {@code R/} and {@code QR/} (columns).
 */
final class ShampooBasis {
  static final Set<String> KEYS = Set.of("L", "QL", "R", "QR");

  /**
   * After averaging, a mean of the workers' bases whose columns all have unit norm to within this is taken to be a
   * basis they shared. Identical bases average to themselves (float rounding is ~1e-6); two bases whose column
   * differs by δ average to a column of squared norm 1 − δ²/4.
   */
  private static final double SHARED = 1e-3;

  /** LAPACKE_dsyevd (divide and conquer) from the CPU backend's OpenBLAS; null on other backends. */
  private static final Method DSYEVD = dsyevd();

  /** Index 0: the rows side (L, Q_L); 1: the columns side (R, Q_R); null where that axis is not rotated. */
  private final Side[] sides = new Side[2];

  private static final class Side {
    final int axis;
    INDArray factor;
    INDArray basis;

    Side(int axis) {
      this.axis = axis;
    }

    /** x with this axis expressed in the basis q: qᵀ x (rows) or x q (columns). */
    INDArray into(INDArray x, INDArray q) {
      return axis == 0 ? Nd4j.gemm(q, x, true, false) : Nd4j.gemm(x, q, false, false);
    }

    /** The inverse of {@link #into}: q x or x qᵀ. */
    INDArray outOf(INDArray x, INDArray q) {
      return axis == 0 ? Nd4j.gemm(q, x, false, false) : Nd4j.gemm(x, q, false, true);
    }

    /** P ← β·P + (1−β)·G Gᵀ (rows) or Gᵀ G (columns), in place. */
    void accumulate(INDArray g, double beta) {
      Nd4j.gemm(g, g, factor, axis == 1, axis == 0, 1 - beta, beta);
    }
  }

  private ShampooBasis() {}

  /** Whether a parameter gets a basis: a matrix with at least one axis no longer than maxPrecondDim. */
  static boolean rotates(INDArray p, int maxPrecondDim) {
    return p.rank() == 2 && (p.size(0) <= maxPrecondDim || p.size(1) <= maxPrecondDim);
  }

  /**
   * The first step: factors (1−β)·G Gᵀ and (1−β)·Gᵀ G (a lerp from zero) and their eigenbases from a full
   * eigendecomposition.
   */
  static ShampooBasis start(INDArray g, double beta, int maxPrecondDim) {
    ShampooBasis b = new ShampooBasis();
    for (int axis = 0; axis < 2; axis++) {
      long n = g.size(axis);
      if (n <= maxPrecondDim) {
        Side s = new Side(axis);
        s.factor = Nd4j.zeros(g.dataType(), n, n);
        s.accumulate(g, beta);
        s.basis = eigenvectors(s.factor);
        b.sides[axis] = s;
      }
    }
    return b;
  }

  /** G' = Q_Lᵀ G Q_R (a new array). */
  INDArray rotate(INDArray g) {
    INDArray x = g;
    for (Side s : sides) {
      if (s != null) {
        x = s.into(x, s.basis);
      }
    }
    return x;
  }

  /** N = Q_L N' Q_Rᵀ. */
  INDArray rotateBack(INDArray n) {
    INDArray x = n;
    for (Side s : sides) {
      if (s != null) {
        x = s.outOf(x, s.basis);
      }
    }
    return x;
  }

  /** Both factors take in the gradient G. */
  void accumulate(INDArray g, double beta) {
    for (Side s : sides) {
      if (s != null) {
        s.accumulate(g, beta);
      }
    }
  }

  /**
   * Refreshes each basis with one power iteration: sorts Q's columns by their estimated eigenvalues diag(Qᵀ P Q),
   * descending, then Q ← qr(P·Q).Q. The momentum (kept in the basis) is re-expressed in the new one in place. Returns
   * each axis' column order (null where not rotated), which the second moment must follow: it is re-ordered, not
   * rotated.
   */
  int[][] refresh(INDArray momentum) {
    int[][] orders = new int[2][];
    for (Side s : sides) {
      if (s == null) {
        continue;
      }
      INDArray pq = Nd4j.gemm(s.factor, s.basis, false, false);
      int[] order = descending(s.basis.mul(pq).sum(0).toDoubleVector()); // column j: q_jᵀ P q_j
      INDArray old = s.basis;
      s.basis = qrQ(Nd4j.pullRows(pq, 0, order)); // P·Q with Q's columns in that order
      momentum.assign(s.into(s.outOf(momentum, old), s.basis));
      orders[s.axis] = order;
    }
    return orders;
  }

  /**
   * After parameter averaging, where each basis holds the workers' mean basis: a mean that is still orthonormal is a
   * basis the workers shared (always so for one worker, and when no refresh fell inside the round) and is kept, so
   * they go on exactly as one process would. Otherwise the basis is recomputed from the averaged factor by a full
   * eigendecomposition, and the averaged momentum re-expressed in it through the mean basis (each worker's momentum
   * lived in its own basis; the mean is the best estimate left). The second moment is kept, as in a refresh.
   */
  void settle(INDArray momentum) {
    for (Side s : sides) {
      if (s != null && !shared(s.basis)) {
        INDArray mean = s.basis;
        s.basis = eigenvectors(s.factor);
        momentum.assign(s.into(s.outOf(momentum, mean), s.basis));
      }
    }
  }

  private static boolean shared(INDArray meanBasis) {
    double[] squaredNorms = meanBasis.mul(meanBasis).sum(0).toDoubleVector();
    return IntStream.range(0, squaredNorms.length).allMatch(j -> Math.abs(squaredNorms[j] - 1) <= SHARED);
  }

  void save(Map<String, INDArray> state, String name) {
    for (Side s : sides) {
      if (s != null) {
        state.put((s.axis == 0 ? "L/" : "R/") + name, s.factor);
        state.put((s.axis == 0 ? "QL/" : "QR/") + name, s.basis);
      }
    }
  }

  /** The bases in a state written by {@link #save}, by parameter name (the arrays themselves, not copies). */
  static Map<String, ShampooBasis> load(Map<String, INDArray> state) {
    Map<String, ShampooBasis> bases = new LinkedHashMap<>();
    state.forEach((key, a) -> {
      int slash = key.indexOf('/');
      String kind = slash > 0 ? key.substring(0, slash) : "";
      if (KEYS.contains(kind)) {
        ShampooBasis b = bases.computeIfAbsent(key.substring(slash + 1), k -> new ShampooBasis());
        int axis = kind.endsWith("L") ? 0 : 1;
        Side s = b.sides[axis] == null ? (b.sides[axis] = new Side(axis)) : b.sides[axis];
        if (kind.startsWith("Q")) {
          s.basis = a;
        } else {
          s.factor = a;
        }
      }
    });
    return bases;
  }

  /** x with its rows (axis 0) or columns (axis 1) put in the given order, in place. */
  static void permute(INDArray x, int axis, int[] order) {
    // pullRows, not getRows/getColumns: those take tens of seconds for 8192 indices (docs/ND4J.md)
    x.assign(Nd4j.pullRows(x, 1 - axis, order));
  }

  /**
   * Eigenvectors of the symmetric p as the columns of an orthonormal matrix, by descending eigenvalue (the
   * reference's eigh of P + 1e-30·I, flipped), computed in double precision and returned in p's type.
   */
  /**
   * Held around every LAPACK call: two workers of one JVM (tasks of the embedded local[N]) decomposing at once made
   * the bundled OpenBLAS 0.3.19 return garbage now and then (a SOAP run diverging at its first refresh, at a
   * different step each time); serialised, the runs are the same as one at a time.
   */
  private static final Object LAPACK = new Object();

  static INDArray eigenvectors(INDArray p) {
    return eigenvectors(p, DSYEVD != null);
  }

  /** As {@link #eigenvectors(INDArray)}; {@code dsyevd} false takes ND4J's syev, as on the CUDA backend. */
  static INDArray eigenvectors(INDArray p, boolean dsyevd) {
    int n = Math.toIntExact(p.rows());
    INDArray a = p.castTo(DataType.DOUBLE).dup('f'); // LAPACK overwrites it with the eigenvectors, column-major
    for (int i = 0; i < n; i++) {
      a.putScalar(i, i, a.getDouble(i, i) + 1e-30);
    }
    INDArray w = Nd4j.create(DataType.DOUBLE, n);
    int info;
    synchronized (LAPACK) {
      if (dsyevd) {
        try {
          info = (int) DSYEVD.invoke(null, 102 /* LAPACK_COL_MAJOR */, (byte) 'V', (byte) 'U', n,
              new DoublePointer(a.data().addressPointer()), n, new DoublePointer(w.data().addressPointer()));
        } catch (IllegalAccessException | InvocationTargetException e) {
          throw new IllegalStateException("LAPACKE_dsyevd failed", e);
        }
      } else {
        info = Nd4j.getBlasWrapper().syev('V', 'U', a, w);
      }
    }
    if (info != 0) {
      throw new IllegalStateException("eigendecomposition of a " + n + "x" + n + " factor failed: LAPACK info " + info);
    }
    int[] descending = IntStream.range(0, n).map(i -> n - 1 - i).toArray(); // LAPACK's order is ascending
    return Nd4j.pullRows(a, 0, descending).castTo(p.dataType());
  }

  /**
   * ND4J's symmetric eigensolver is LAPACK's syev (QR iteration; 8192²: 6 minutes in float); its divide-and-conquer
   * syevd is not implemented ("UnsupportedOperationException"). The CPU backend's OpenBLAS has LAPACKE_dsyevd (8192²:
   * 94 s in double), called by reflection so that this module still builds against the CUDA backend, which lacks it.
   * Double precision also avoids LAPACKE_ssyevd's workspace-size bug (rejected for n ≥ 4096).
   */
  private static Method dsyevd() {
    try {
      return Class.forName("org.bytedeco.openblas.global.openblas").getMethod("LAPACKE_dsyevd", int.class, byte.class,
          byte.class, int.class, DoublePointer.class, int.class, DoublePointer.class);
    } catch (ReflectiveOperationException | LinkageError e) {
      return null;
    }
  }

  /**
   * Q of the QR decomposition of a square a, through LAPACK (ND4J's geqrf runs geqrf then orgqr and leaves Q in its
   * argument). Not the {@code Qr} op: it took 72 s for 1024² and crashed the JVM at 2048² (docs/ND4J.md).
   */
  static INDArray qrQ(INDArray a) {
    INDArray q = a.dup('f');
    synchronized (LAPACK) {
      Nd4j.getBlasWrapper().lapack().geqrf(q, Nd4j.create(a.dataType(), a.columns(), a.columns()));
    }
    return q.dup('c');
  }

  private static int[] descending(double[] values) {
    return IntStream.range(0, values.length).boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> values[i]).reversed()).mapToInt(Integer::intValue).toArray();
  }
}
