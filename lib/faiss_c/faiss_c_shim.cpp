// Minimal implementation of the FAISS C API functions that libmagclust calls.
//
// Debian 12's libfaiss-dev installs the C API headers (faiss/c_api/*.h) but
// no compiled libfaiss_c. When CMake finds no real libfaiss_c, this file is
// compiled instead: it implements exactly the declarations used by lib/src
// against libfaiss.a, with the same semantics as upstream c_api (an exception
// becomes a negative return code and faiss_get_last_error() describes it).
// The declarations come from Debian's own headers, so a signature mismatch is
// a compile error here, not a silent ABI break.
#include <faiss/AutoTune.h>
#include <faiss/IndexFlat.h>
#include <faiss/index_factory.h>
#include <faiss/impl/FaissException.h>

#include <exception>
#include <stdexcept>
#include <string>

extern "C" {
#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
}

namespace {
// Per thread, like upstream's faiss_last_exception.
thread_local std::string last_error;

template <typename F>
int guarded(F&& f) {
    try {
        f();
        return 0;
    } catch (const faiss::FaissException& e) {
        last_error = e.what();
        return -2;
    } catch (const std::exception& e) {
        last_error = e.what();
        return -4;
    } catch (...) {
        last_error = "Unknown error";
        return -1;
    }
}
} // namespace

extern "C" {

const char* faiss_get_last_error() {
    return last_error.empty() ? nullptr : last_error.c_str();
}

int faiss_IndexFlatIP_new_with(FaissIndexFlatIP** p_index, idx_t d) {
    return guarded([&] {
        *p_index = reinterpret_cast<FaissIndexFlatIP*>(new faiss::IndexFlatIP(d));
    });
}

void faiss_Index_free(FaissIndex* obj) {
    delete reinterpret_cast<faiss::Index*>(obj);
}

int faiss_Index_add(FaissIndex* index, idx_t n, const float* x) {
    return guarded([&] { reinterpret_cast<faiss::Index*>(index)->add(n, x); });
}

int faiss_Index_search(const FaissIndex* index, idx_t n, const float* x, idx_t k,
                       float* distances, idx_t* labels) {
    return guarded([&] {
        reinterpret_cast<const faiss::Index*>(index)->search(n, x, k, distances, labels);
    });
}

int faiss_index_factory(FaissIndex** p_index, int d, const char* description,
                        FaissMetricType metric) {
    return guarded([&] {
        *p_index = reinterpret_cast<FaissIndex*>(
                faiss::index_factory(d, description, static_cast<faiss::MetricType>(metric)));
    });
}

int faiss_Index_is_trained(const FaissIndex* index) {
    return reinterpret_cast<const faiss::Index*>(index)->is_trained;
}

idx_t faiss_Index_ntotal(const FaissIndex* index) {
    return reinterpret_cast<const faiss::Index*>(index)->ntotal;
}

int faiss_Index_train(FaissIndex* index, idx_t n, const float* x) {
    return guarded([&] { reinterpret_cast<faiss::Index*>(index)->train(n, x); });
}

int faiss_ParameterSpace_new(FaissParameterSpace** space) {
    return guarded([&] {
        *space = reinterpret_cast<FaissParameterSpace*>(new faiss::ParameterSpace());
    });
}

void faiss_ParameterSpace_free(FaissParameterSpace* obj) {
    delete reinterpret_cast<faiss::ParameterSpace*>(obj);
}

int faiss_ParameterSpace_set_index_parameter(const FaissParameterSpace* space, FaissIndex* index,
                                             const char* name, double value) {
    return guarded([&] {
        reinterpret_cast<const faiss::ParameterSpace*>(space)->set_index_parameter(
                reinterpret_cast<faiss::Index*>(index), name, value);
    });
}

} // extern "C"
