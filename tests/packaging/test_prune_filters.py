"""packaging/simpleitk/prune_filters.py: which SimpleITK filters the slim build keeps.

Runs on a miniature SimpleITK source tree (the real one is downloaded by the slim build):
the filters HeartTwin calls and those SimpleITK's own C++ needs stay, the rest go, and the
source patches (no masked assignment, no image operators) apply.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "simpleitk" / "prune_filters.py"

_spec = importlib.util.spec_from_file_location("prune_filters", SCRIPT)
prune_filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prune_filters)

IMAGE_I = """
        Image __iadd__ ( const Image &i )
        {
          return *$self += i;
        }
        Image __ipow__ ( double c)
        {
          Pow($self->ProxyForInPlaceOperation(), c);
          return *$self;
        }
        // A wrapper for performing the paste operation in place
        Image __ipaste(double constant) { return *$self; }
        Image __setitem_slice(int x) { return *$self; }
        Image __imasked_assign(const Image &mask,  const Image &assign)
        {
          itk::simple::MaskedAssignImageFilter ma;
          ma.Execute($self->ProxyForInPlaceOperation(), mask, assign);
          return *$self;
        }
        Image __imasked_assign(const Image &mask,  double constant)
        {
          itk::simple::MaskedAssignImageFilter ma;
          ma.SetAssignConstant(constant);
          ma.Execute($self->ProxyForInPlaceOperation(), mask);
          return *$self;
        }
        %pythoncode %{
        def __copy__(self):
            return Image(self)

        # mathematical operators

        def __add__( self, other ):
            return Add( self, other )
        def __abs__( self ):
            return Abs( self )

        # iterator and container methods

        def __iter__( self ):
            return iter(())
        %}
"""
COMMON_I = """%{
#include <SimpleITK.h>
#include <sitkImageOperators.h>
#include <sitkPathType.h>
%}
"""
CMAKE = """add_filter_library(SimpleITKBasicFilters1 SimpleITKBasicFilters1Source no_itk_deps)
target_link_libraries ( SimpleITKBasicFilters1
  PUBLIC SimpleITKCommon )
target_link_libraries ( SimpleITK_ITKImageIntensity PRIVATE SimpleITK_ITKImageFilterBase )
sitk_target_use_itk_factory( SimpleITK_ITKFFT FFTImageFilterInit )
"""


def _source_tree(tmp_path: Path, names: list[str]) -> Path:
    src = tmp_path / "SimpleITK"
    json_dir = src / "Code" / "BasicFilters" / "json"
    json_dir.mkdir(parents=True)
    for name in names:
        (json_dir / f"{name}.json").write_text(json.dumps({"name": name, "itk_module": "ITKX"}))
    (src / "Wrapping" / "Python").mkdir(parents=True)
    (src / "Wrapping" / "Python" / "sitkImage.i").write_text(IMAGE_I)
    (src / "Wrapping" / "Common").mkdir(parents=True)
    (src / "Wrapping" / "Common" / "SimpleITK_Common.i").write_text(COMMON_I)
    (src / "Code" / "BasicFilters" / "src").mkdir(parents=True)
    (src / "Code" / "BasicFilters" / "src" / "CMakeLists.txt").write_text(CMAKE)
    return src


def test_hearttwin_uses_are_found_in_the_code():
    used = prune_filters.used_names(ROOT)
    # procedural and class spellings, from the core (registration, segmentation, resampling)
    for name in ("Resample", "DiffeomorphicDemonsRegistrationFilter", "MorphologicalWatershedFromMarkers",
                 "SignedMaurerDistanceMapImageFilter", "LabelShapeStatisticsImageFilter", "ImageSeriesReader"):
        assert name in used
    assert not any(n.startswith("sitk") for n in used)  # pixel-type constants are not filters


def test_prune_keeps_used_and_needed_filters_and_drops_the_rest(tmp_path):
    names = ["ResampleImageFilter", "BinaryDilateImageFilter", "DiffeomorphicDemonsRegistrationFilter",
             "SliceImageFilter", "AddImageFilter", "OtsuThresholdImageFilter", "LessEqualImageFilter",
             "N4BiasFieldCorrectionImageFilter", "GaborImageSource"]
    src = _source_tree(tmp_path, names)
    kept, removed = prune_filters.prune(src, ROOT)
    assert sorted(kept) == sorted(names[:4])
    assert removed == 5
    left = {p.stem for p in (src / "Code" / "BasicFilters" / "json").glob("*.json")}
    assert left == set(names[:4])
    image_i = (src / "Wrapping" / "Python" / "sitkImage.i").read_text()
    assert "MaskedAssign" not in image_i and "__setitem_slice" in image_i
    # no operator is left to call a removed filter; pasting, copying and iterating stay
    for gone in ("__iadd__", "__ipow__", "__add__", "__abs__", "Pow(", "Add("):
        assert gone not in image_i
    for kept_method in ("__ipaste", "__copy__", "def __iter__", "%pythoncode %{", "%}"):
        assert kept_method in image_i
    common_i = (src / "Wrapping" / "Common" / "SimpleITK_Common.i").read_text()
    assert "sitkImageOperators" not in common_i and "#include <SimpleITK.h>" in common_i
    cmake = (src / "Code" / "BasicFilters" / "src" / "CMakeLists.txt").read_text()
    assert "if(TARGET SimpleITK_ITKFFT)\n  sitk_target_use_itk_factory( SimpleITK_ITKFFT" in cmake
    # a per-module library links another only while both still exist
    assert ("if(TARGET SimpleITK_ITKImageIntensity AND TARGET SimpleITK_ITKImageFilterBase)\n"
            "  target_link_libraries ( SimpleITK_ITKImageIntensity PRIVATE SimpleITK_ITKImageFilterBase )\nendif()") in cmake
    assert "target_link_libraries ( SimpleITKBasicFilters1\n  PUBLIC SimpleITKCommon )" in cmake
    assert cmake.startswith("add_filter_library(SimpleITKBasicFilters1")


@pytest.mark.parametrize("change, message", [
    (("sitkImage.i", "__imasked_assign", "__imasked_set"), "masked-assignment"),
    (("sitkImage.i", "# mathematical operators", "# arithmetic"), "Python operators"),
    (("sitkImage.i", "Image __iadd__ ( const Image &i )", "Image __iadd__(const Image &i)"), "in-place operators"),
    (("SimpleITK_Common.i", "#include <sitkImageOperators.h>\n", ""), "sitkImageOperators.h"),
])
def test_prune_refuses_a_tree_it_does_not_recognise(tmp_path, change, message):
    """A newer SimpleITK whose sources moved on stops the build instead of half-patching it."""
    src = _source_tree(tmp_path, ["ResampleImageFilter"])
    name, old, new = change
    path = next(src.rglob(name))
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(SystemExit, match=message):
        prune_filters.prune(src, ROOT)


def test_check_passes_on_the_installed_simpleitk_and_names_what_is_missing(tmp_path):
    ok = subprocess.run([sys.executable, str(SCRIPT), "--check", str(ROOT)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "has all" in ok.stdout
    fake = tmp_path / "fake"
    (fake / "app").mkdir(parents=True)
    (fake / "app" / "uses.py").write_text("import SimpleITK as sitk\nsitk.NoSuchFilterAnywhere(img)\n")
    bad = subprocess.run([sys.executable, str(SCRIPT), "--check", str(fake)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "lacks NoSuchFilterAnywhere" in bad.stderr
